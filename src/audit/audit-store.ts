import { sql } from 'drizzle-orm';
import { type Database, queryRows, toIso } from '../db/database.js';

export interface AuditEntry {
  tokenId: string;
  action: string;
  target: string | null;
  method: string;
  path: string;
  statusCode: number;
  requestId: string;
}

/** Who did what to which target, one row per admin mutation. */
export class AuditStore {
  constructor(private readonly database: Database) {}

  async record(entry: AuditEntry): Promise<void> {
    // The target is the raw path id, recorded before validation (a denied request is audited too): PostgreSQL text
    // cannot hold NUL, so it becomes U+FFFD rather than losing the row.
    const target = entry.target?.replaceAll('\u0000', '\ufffd') ?? null;
    await this.database.orm.execute(
      sql`insert into audit_log (token_id, action, target, method, path, status_code, request_id)
          values (${entry.tokenId}, ${entry.action}, ${target}, ${entry.method}, ${entry.path},
                  ${entry.statusCode}, ${entry.requestId})`,
    );
  }

  async recent(limit: number): Promise<(AuditEntry & { createdAt: string })[]> {
    const rows = await queryRows<Record<string, unknown>>(
      this.database.orm,
      sql`select * from audit_log order by id desc limit ${limit}`,
    );
    return rows.map((r) => ({
      tokenId: r.token_id as string,
      action: r.action as string,
      target: (r.target as string | null) ?? null,
      method: r.method as string,
      path: r.path as string,
      statusCode: Number(r.status_code),
      requestId: r.request_id as string,
      createdAt: toIso(r.created_at)!,
    }));
  }
}
