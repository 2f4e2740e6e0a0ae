/**
 * What a store collects for the ClickHouse mirror: the bucket values of its
 * commits since the last take(), once track() was called (never otherwise).
 * A store whose commit may be retried collects each attempt apart (attempt())
 * and keeps only the one that committed (keep()).
 */
export class MirrorFeed<T> {
  private rows: T[] | undefined;

  track(): void {
    this.rows ??= [];
  }

  /** Where a commit pushes its rows: undefined while no mirror asked. */
  get sink(): T[] | undefined {
    return this.rows;
  }

  attempt(): T[] | undefined {
    return this.rows ? [] : undefined;
  }

  keep(attempt: T[] | undefined): void {
    if (this.rows && attempt) this.rows.push(...attempt);
  }

  take(): T[] {
    if (this.rows === undefined) return [];
    const out = this.rows;
    this.rows = [];
    return out;
  }
}
