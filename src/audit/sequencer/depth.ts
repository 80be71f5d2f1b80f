/**
 * The sequencer queue's depth for the observability gauges (`keywarden.audit.queue.depth` and
 * `keywarden.audit.queue.age`), and the registration the appender makes when it is created. The
 * query runs only when the host's OpenTelemetry SDK collects, on one pooled connection; it reads
 * counts and one timestamp, never a chain id or an entry.
 *
 * @packageDocumentation
 */
import type { PgPoolLike } from "../../guard/pg-like.js";
import {
  type DurableQueueDepth,
  registerAuditQueue,
  unregisterAuditQueue,
} from "../../observability/gauges.js";

const DEPTH_SQL = `select count(*) filter (where failed_code is null) as pending,
  count(*) filter (where failed_code is not null) as failed,
  coalesce(extract(epoch from clock_timestamp() - min(enqueued_at) filter (where failed_code is null)), 0) as age
  from keywarden_audit.sequencer_queue`;

/**
 * Counts the entries in the durable queue of `pool`'s database (all chains): pending, failed, and
 * the oldest pending entry's age in seconds.
 *
 * @throws the pool's error when the database cannot be read.
 */
export async function readSequencerQueueDepth(pool: PgPoolLike): Promise<DurableQueueDepth> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const r = await client.query<{ pending: string; failed: string; age: string | number }>(
      DEPTH_SQL,
    );
    const row = r.rows[0];
    return {
      pending: Number(row?.pending ?? 0),
      failed: Number(row?.failed ?? 0),
      oldestPendingSeconds: Math.max(0, Number(row?.age ?? 0)),
    };
  } catch (err) {
    broken = err instanceof Error ? err : new Error("query failed");
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Files `appender`'s queues with the gauges: the database's durable queue (read once per
 * collection however many appenders share `pool`) and the appends it waits on. Returns the
 * removal, for `close()`.
 */
export function observeSequencerQueue(
  appender: object,
  pool: PgPoolLike,
  waiting: () => number,
): () => void {
  registerAuditQueue(appender, {
    queue: "sequencer",
    waiting,
    database: pool,
    readDurable: () => readSequencerQueueDepth(pool),
  });
  return () => unregisterAuditQueue(appender);
}
