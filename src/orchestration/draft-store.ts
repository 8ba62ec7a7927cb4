import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Executor, queryOne, queryRows, toIso } from '../db/database.js';

export interface Draft {
  id: string;
  title: string;
  body: string;
  context: unknown;
  revision: number;
  createdAt: string;
  updatedAt: string;
}

export interface DraftRevision {
  revision: number;
  title: string;
  body: string;
  source: 'create' | 'orchestration';
  runId: string | null;
  verdict: unknown;
  createdAt: string;
}

type Row = Record<string, unknown>;

function draftFromRow(row: Row): Draft {
  return {
    id: row.id as string,
    title: row.title as string,
    body: row.body as string,
    context: row.context ?? null,
    revision: Number(row.revision),
    createdAt: toIso(row.created_at)!,
    updatedAt: toIso(row.updated_at)!,
  };
}

function revisionFromRow(row: Row): DraftRevision {
  return {
    revision: Number(row.revision),
    title: row.title as string,
    body: row.body as string,
    source: row.source as DraftRevision['source'],
    runId: (row.run_id as string | null) ?? null,
    verdict: row.verdict ?? null,
    createdAt: toIso(row.created_at)!,
  };
}

/** Drafts and their revisions; a new revision and the draft's head move together in one transaction. */
export async function createDraft(
  tx: Executor,
  input: { title: string; body: string; context?: unknown },
): Promise<Draft> {
  const id = randomUUID();
  const context = input.context === undefined ? null : JSON.stringify(input.context);
  const row = await queryOne<Row>(
    tx,
    sql`insert into drafts (id, title, body, context) values (${id}, ${input.title}, ${input.body}, ${context}::jsonb) returning *`,
  );
  await tx.execute(
    sql`insert into draft_revisions (draft_id, revision, title, body, source) values (${id}, 1, ${input.title}, ${input.body}, 'create')`,
  );
  return draftFromRow(row!);
}

/** Several drafts in one query, by id (missing ids are absent from the map). */
export async function getDrafts(executor: Executor, ids: string[]): Promise<Map<string, Draft>> {
  const rows = await queryRows<Row>(
    executor,
    sql`select * from drafts where id in (${sql.join(
      ids.map((id) => sql`${id}::uuid`),
      sql`, `,
    )})`,
  );
  return new Map(rows.map((row) => [String(row.id), draftFromRow(row)]));
}

export async function getDraft(executor: Executor, id: string): Promise<Draft | undefined> {
  const row = await queryOne<Row>(executor, sql`select * from drafts where id = ${id}`);
  return row ? draftFromRow(row) : undefined;
}

export async function listDrafts(
  executor: Executor,
  limit: number,
  after?: { updatedAt: string; id: string },
): Promise<Draft[]> {
  const where = after
    ? sql`where (updated_at, id) < (${after.updatedAt}::timestamptz, ${after.id}::uuid)`
    : sql``;
  const rows = await queryRows<Row>(
    executor,
    sql`select * from drafts ${where} order by updated_at desc nulls last, id desc nulls last limit ${limit + 1}`,
  );
  return rows.map(draftFromRow);
}

export async function listRevisions(executor: Executor, id: string): Promise<DraftRevision[]> {
  const rows = await queryRows<Row>(
    executor,
    sql`select * from draft_revisions where draft_id = ${id} order by revision`,
  );
  return rows.map(revisionFromRow);
}

/** Adds the next revision (the maker's text after a judge `merge`) and moves the draft's head to it. */
export async function addRevision(
  tx: Executor,
  id: string,
  input: { body: string; runId: string; verdict: unknown },
): Promise<number> {
  const row = await queryOne<{ revision: number; title: string }>(
    tx,
    sql`update drafts set revision = revision + 1, body = ${input.body}, updated_at = clock_timestamp()
        where id = ${id} returning revision, title`,
  );
  await tx.execute(
    sql`insert into draft_revisions (draft_id, revision, title, body, source, run_id, verdict)
        values (${id}, ${row!.revision}, ${row!.title}, ${input.body}, 'orchestration', ${input.runId}, ${JSON.stringify(input.verdict)}::jsonb)`,
  );
  return Number(row!.revision);
}
