/**
 * The SQL stores' cache of history entity ids (entityKey(kind, service,
 * name, sub) → history_entity.id), kept true to the database across a
 * rollback: ids created in the open transaction are forgotten again, ids
 * deleted in it (merged templates) are known again.
 */
export class EntityIds {
  private readonly ids = new Map<string, number>();
  private created: string[] = [];
  private deleted: Array<[string, number]> = [];

  get(key: string): number | undefined {
    return this.ids.get(key);
  }

  has(key: string): boolean {
    return this.ids.has(key);
  }

  /** An id read from the database (committed already). */
  load(key: string, id: number): void {
    this.ids.set(key, id);
  }

  /** An id created (or first seen) in the open transaction. */
  add(key: string, id: number): void {
    this.ids.set(key, id);
    this.created.push(key);
  }

  /** An id deleted in the open transaction. */
  delete(key: string): void {
    const id = this.ids.get(key);
    if (id === undefined) return;
    this.ids.delete(key);
    this.deleted.push([key, id]);
  }

  committed(): void {
    this.created = [];
    this.deleted = [];
  }

  rolledBack(): void {
    for (const k of this.created) this.ids.delete(k);
    for (const [k, id] of this.deleted) this.ids.set(k, id);
    this.committed();
  }
}
