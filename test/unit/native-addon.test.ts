// The addon's exports against the calls the daemon makes: a build from other sources is refused at load, by name.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { ADDON_PATH, missingExports, native } from '../../daemon/transport/native-addon';

test('an object lacking calls is reported by their names; a non-function counts as missing', () => {
  const missing = missingExports({ linkInfo: () => undefined, inodeOf: 7 });
  assert.ok(missing.includes('inodeOf'));
  assert.ok(missing.includes('watchOpen'));
  assert.ok(!missing.includes('linkInfo'));
});

test('the built addon exports every call the daemon makes', () => {
  assert.ok(existsSync(ADDON_PATH), `${ADDON_PATH}: not built (npm run build)`);
  assert.deepEqual(missingExports(require(ADDON_PATH) as object), []);
  assert.equal(typeof native().inodeOf, 'function');
});
