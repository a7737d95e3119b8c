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
  assert.ok(missing.includes('inotifyMasks'));
  assert.ok(!missing.some((name) => name.startsWith('inotifyMasks.')));
});

test('a mask bit the addon lacks is reported by its name; the built addon has every one, frozen', () => {
  const missing = missingExports({ inotifyMasks: { IN_DELETE: 0x200, IN_IGNORED: '0x8000' } });
  assert.ok(missing.includes('inotifyMasks.IN_IGNORED'));
  assert.ok(missing.includes('inotifyMasks.IN_MOVED_FROM'));
  assert.ok(!missing.includes('inotifyMasks.IN_DELETE'));
  assert.ok(!missing.includes('inotifyMasks'));
  assert.ok(Object.isFrozen(native().inotifyMasks));
});

test('the built addon exports every call the daemon makes', () => {
  assert.ok(existsSync(ADDON_PATH), `${ADDON_PATH}: not built (npm run build)`);
  assert.deepEqual(missingExports(require(ADDON_PATH) as object), []);
  assert.equal(typeof native().inodeOf, 'function');
});
