// One lease's work in order: each piece starts when the one before has finished, so its core sees one input at a
// time and a step's record and link changes never interleave with the next step's. Protocol-neutral.
export class StepChain {
  private chain: Promise<void> = Promise.resolve();

  /** Queues work after everything queued so far. */
  then(work: () => Promise<void>): void {
    this.chain = this.chain.then(work);
  }

  /** Queues work whose failure goes to onError instead of breaking the chain (a bug in one step must not stop the
   *  lease, or the daemon). */
  guarded(work: () => Promise<void>, onError: (err: Error) => void): void {
    this.chain = this.chain.then(work).catch(onError);
  }

  /** Resolves when the work queued before this call has finished. */
  settled(): Promise<void> {
    return this.chain;
  }
}
