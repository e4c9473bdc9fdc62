// The same work is never done twice at once: callers asking for a key already in flight share its
// promise. Nothing is remembered after it settles (caching is the caller's business).
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /** Number of keys in flight. */
  get size(): number {
    return this.flights.size;
  }

  run(key: string, work: () => Promise<T>): Promise<T> {
    const current = this.flights.get(key);
    if (current) return current;
    // The async wrapper turns a synchronous throw into a rejection shared like any other.
    const flight = (async () => work())().finally(() => this.flights.delete(key));
    this.flights.set(key, flight);
    return flight;
  }

  /** Settles when every flight now in the air has settled (for draining at shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.flights.values()]);
  }
}
