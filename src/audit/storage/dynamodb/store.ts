/**
 * The DynamoDB {@link AuditStore} (`keywarden/audit/dynamodb`), on an injected
 * `@aws-sdk/client-dynamodb` client.
 *
 * Every append request is one item (a "block", keyed (`c#<chainId>`, first seq)) written by a
 * single PutItem with `attribute_not_exists`: atomic, one write, and a lost race is a conditional
 * failure. The expected size is checked against a strongly consistent read of the last block
 * first; since blocks only ever start at a head that was read, two blocks can never overlap.
 * Idempotency keys are reservations checked against the block they point to (layout in
 * dynamodb-layout.ts). Block size is bounded by DynamoDB's 400 KB item limit.
 *
 * Multi-region: DynamoDB global tables replicate with last-writer-wins, so two regions appending
 * to one chain would each win their own conditional write and the replicas would silently keep
 * one of two different entries at the same seq: a fork. {@link openDynamoDbAuditStore} refuses a
 * replicated table unless the caller names the chain's home region and the client is in it.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import type {
  AppendRequest,
  AppendResult,
  AuditStore,
  StoredEntry,
  TreeNodeKey,
} from "../index.js";
import {
  type Attr,
  type Block,
  blockPk,
  checkpointPk,
  decodeBlock,
  entryOf,
  type Item,
  itemBytes,
  nodeCarrier,
  num,
  reservationPk,
  seqOfKey,
} from "./layout.js";

/** `@aws-sdk/client-dynamodb`, loaded on first use so that importing this module never needs it. */
let sdk: typeof import("@aws-sdk/client-dynamodb") | undefined;

async function loadDynamoDbSdk(): Promise<void> {
  try {
    sdk ??= await import("@aws-sdk/client-dynamodb");
  } catch (cause) {
    throw new KeywardenError(
      "ERR_NOT_SUPPORTED",
      "the DynamoDB audit store needs the optional peer @aws-sdk/client-dynamodb (npm install it)",
      { cause },
    );
  }
}

function ddb(): typeof import("@aws-sdk/client-dynamodb") {
  if (!sdk) throw new KeywardenError("ERR_INTERNAL", "DynamoDB SDK used before it was loaded");
  return sdk;
}

/** The structural subset of a `DynamoDBClient` used here. */
export interface DynamoDbClientLike {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's command types are generic over their output.
  send(command: any): Promise<any>;
  readonly config: { region: string | (() => Promise<string>) };
}

/** Options of {@link openDynamoDbAuditStore}. */
export interface DynamoDbAuditStoreOptions {
  readonly client: DynamoDbClientLike;
  readonly tableName: string;
  /**
   * The one region that writes these chains. Required when the table is replicated (global
   * table); must equal the client's region. Asserts that no other region writes.
   */
  readonly homeRegion?: string | undefined;
}

/** Largest block written, below DynamoDB's 400 KB item limit. */
export const MAX_BLOCK_BYTES = 380_000;

const conflict = (m: string) => new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", m);
const RETRYABLE =
  /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|InternalServerError|ServiceUnavailable|TransactionConflict|TimeoutError|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|socket hang up/;

function mapError(err: unknown): KeywardenError {
  if (err instanceof KeywardenError) return err;
  const name = `${(err as { name?: string })?.name ?? ""} ${(err as { code?: string })?.code ?? ""} ${(err as Error)?.message ?? ""}`;
  const retryable = RETRYABLE.test(name);
  return new KeywardenError(
    "ERR_AUDIT_STORE_UNAVAILABLE",
    retryable
      ? "the DynamoDB audit store is unavailable; retry with the same idempotency key"
      : "the DynamoDB audit store failed",
    {
      cause: err,
      details: { retryable },
    },
  );
}
const isConditionFailure = (err: unknown) =>
  (err as { name?: string })?.name === "ConditionalCheckFailedException";

/**
 * Creates the audit table (on-demand capacity). For tests and first setup; production tables are
 * usually created by infrastructure code with the same key schema.
 *
 * @example
 * ```ts
 * await createDynamoDbAuditTable(client, "keywarden-audit");
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` when DynamoDB refuses.
 */
export async function createDynamoDbAuditTable(
  client: DynamoDbClientLike,
  tableName: string,
): Promise<void> {
  await loadDynamoDbSdk();
  try {
    await client.send(
      new (ddb().CreateTableCommand)({
        TableName: tableName,
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "N" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (err) {
    throw mapError(err);
  }
}

/**
 * Opens a DynamoDB audit store after checking the table: it must exist, and a replicated (global)
 * table is refused unless `homeRegion` is given and equals the client's region.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
 * const store = await openDynamoDbAuditStore({ client: new DynamoDBClient({ region: "eu-west-1" }), tableName: "keywarden-audit", homeRegion: "eu-west-1" });
 * ```
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` for a configuration that could fork a chain;
 * `ERR_INVALID_ARGUMENT` on bad options; `ERR_AUDIT_STORE_UNAVAILABLE` when DynamoDB fails.
 */
export async function openDynamoDbAuditStore(
  options: DynamoDbAuditStoreOptions,
): Promise<AuditStore> {
  await loadDynamoDbSdk();
  const { client, tableName, homeRegion } = options ?? ({} as DynamoDbAuditStoreOptions);
  if (
    !client ||
    typeof client.send !== "function" ||
    typeof tableName !== "string" ||
    !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)
  )
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "openDynamoDbAuditStore needs a client and a valid tableName",
    );
  const region =
    typeof client.config?.region === "function"
      ? await client.config.region()
      : client.config?.region;
  let table: { Replicas?: unknown[]; GlobalTableVersion?: string } | undefined;
  try {
    table = (await client.send(new (ddb().DescribeTableCommand)({ TableName: tableName })))?.Table;
  } catch (err) {
    throw mapError(err);
  }
  const replicated =
    (Array.isArray(table?.Replicas) && table.Replicas.length > 0) ||
    typeof table?.GlobalTableVersion === "string";
  /* Precondition: a replicated (multi-writer) table is used only from an asserted single home region. */
  if (replicated && homeRegion === undefined)
    throw new KeywardenError(
      "ERR_NOT_SUPPORTED",
      "the audit table is a global table: writes from several regions would fork chains (last writer wins); pass homeRegion and write only from it",
    );
  /* Precondition: the client writes from the home region, when one is asserted. */
  if (homeRegion !== undefined && homeRegion !== region)
    throw new KeywardenError(
      "ERR_NOT_SUPPORTED",
      "this client is not in the audit chains' home region; only the home region may write",
      { details: { homeRegion, clientRegion: region ?? null } },
    );
  return createStore(client, tableName);
}

function createStore(client: DynamoDbClientLike, TableName: string): AuditStore {
  const send = async <T>(cmd: unknown): Promise<T> => {
    try {
      return (await client.send(cmd)) as T;
    } catch (err) {
      if (isConditionFailure(err)) throw err;
      throw mapError(err);
    }
  };
  /** The block holding `seq` (the last block starting at or before it). */
  async function blockAt(chainId: string, seq: number): Promise<Block | undefined> {
    const r = await send<{ Items?: Item[] }>(
      new (ddb().QueryCommand)({
        TableName,
        KeyConditionExpression: "pk = :pk and sk <= :s",
        ExpressionAttributeValues: { ":pk": { S: blockPk(chainId) }, ":s": { N: String(seq) } },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = r.Items?.[0];
    if (!item) return undefined;
    const b = decodeBlock(item);
    return seq < b.start + b.hashes.length ? b : undefined;
  }
  async function head(chainId: string) {
    const r = await send<{ Items?: Item[] }>(
      new (ddb().QueryCommand)({
        TableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: blockPk(chainId) } },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = r.Items?.[0];
    if (!item) return { size: 0, headHash: null };
    const b = decodeBlock(item);
    return { size: b.start + b.hashes.length, headHash: b.hashes[b.hashes.length - 1] as string };
  }
  async function getBlock(chainId: string, start: number): Promise<Block | undefined> {
    const r = await send<{ Item?: Item }>(
      new (ddb().GetItemCommand)({
        TableName,
        Key: { pk: { S: blockPk(chainId) }, sk: { N: String(start) } },
        ConsistentRead: true,
      }),
    );
    return r.Item ? decodeBlock(r.Item) : undefined;
  }
  /** Reserves `key` for a block at `start`; throws a conflict when the key is already committed. */
  async function reserve(chainId: string, key: string, start: number): Promise<void> {
    const Key = { pk: { S: reservationPk(chainId, key) }, sk: { N: "0" } };
    try {
      await send(
        new (ddb().PutItemCommand)({
          TableName,
          Item: { ...Key, at: { N: String(start) } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const r = await send<{ Item?: Item }>(
      new (ddb().GetItemCommand)({ TableName, Key, ConsistentRead: true }),
    );
    const at = num(r.Item?.at);
    if (at === start) return; // a racing or crashed attempt at the same position: the block decides
    const block = await getBlock(chainId, at);
    /* Precondition: an idempotency key is used at most once per chain. */
    if (block && seqOfKey(block, key) !== undefined) throw conflict("idempotency key already used");
    if (!block && at > start) throw conflict("idempotency key reserved by a newer append");
    try {
      // Stale: the block it pointed to was written by another append (or never will be).
      await send(
        new (ddb().PutItemCommand)({
          TableName,
          Item: { ...Key, at: { N: String(start) } },
          ConditionExpression: "#at = :old",
          ExpressionAttributeNames: { "#at": "at" },
          ExpressionAttributeValues: { ":old": { N: String(at) } },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw conflict("idempotency key raced");
      throw err;
    }
  }

  return {
    capabilities: { idempotency: true, treeNodes: true, checkpoints: true },
    head,

    async append(r: AppendRequest): Promise<AppendResult> {
      const es = r?.entries;
      if (
        !r ||
        !Array.isArray(es) ||
        es.length === 0 ||
        es[0]?.seq !== r.expectedSize ||
        es.some((e, i) => e.seq !== r.expectedSize + i)
      )
        throw new KeywardenError(
          "ERR_INVALID_ARGUMENT",
          "append needs contiguous entries starting at expectedSize",
        );
      const end = r.expectedSize + es.length;
      const item: Item = {
        pk: { S: blockPk(r.chainId) },
        sk: { N: String(r.expectedSize) },
        h: { L: es.map((e) => ({ S: e.hash })) },
        b: { L: es.map((e) => ({ S: e.body })) },
        p: {
          M: Object.fromEntries(
            es
              .filter((e) => e.payload !== null)
              .map((e) => [String(e.seq), { S: e.payload as string }]),
          ),
        },
      };
      const keyed = es.filter((e) => e.idempotencyKey !== undefined);
      if (keyed.length > 0)
        item.k = {
          M: Object.fromEntries(
            keyed.map((e) => [String(e.seq), { S: e.idempotencyKey as string }]),
          ),
        };
      // Nodes completed by this batch; nodes of earlier leaves are already stored (identical).
      const nodes = (r.treeNodes ?? []).filter(
        (n) =>
          nodeCarrier(n.level, n.index) >= r.expectedSize && nodeCarrier(n.level, n.index) < end,
      );
      if (nodes.length > 0)
        item.t = {
          M: Object.fromEntries(
            nodes.map((n) => [`${n.level}/${n.index}`, { B: new Uint8Array(n.hash) } as Attr]),
          ),
        };
      if (itemBytes(item) > MAX_BLOCK_BYTES)
        throw new KeywardenError(
          "ERR_INVALID_ARGUMENT",
          "append batch too large for one DynamoDB item",
          { details: { maxBlockBytes: MAX_BLOCK_BYTES } },
        );
      if (new Set(keyed.map((e) => e.idempotencyKey)).size !== keyed.length)
        throw conflict("idempotency key used twice in one batch");
      /* Precondition: a block is written only at the chain's current size, read strongly consistently. */
      if ((await head(r.chainId)).size !== r.expectedSize) throw conflict("chain size changed");
      // Reservations are independent items: made concurrently (a refused one fails the append).
      await Promise.all(
        keyed.map((e) => reserve(r.chainId, e.idempotencyKey as string, r.expectedSize)),
      );
      try {
        await send(
          new (ddb().PutItemCommand)({
            TableName,
            Item: item,
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        // The SDK retries a put whose response was lost; its retry then finds the block the
        // first try wrote. Only a block with other hashes means another writer won.
        const there = await getBlock(r.chainId, r.expectedSize);
        /* Postcondition: a DynamoDB append reports a lost race only when the block at its position is another writer's. */
        if (
          !there ||
          there.hashes.length !== es.length ||
          there.hashes.some((h, i) => h !== es[i]?.hash)
        )
          throw conflict("chain size changed");
      }
      return { size: end, headHash: (es[es.length - 1] as StoredEntry).hash };
    },

    async *read(chainId, from, to) {
      const end = to ?? (await head(chainId)).size;
      let next = Math.max(0, from);
      const first = next < end ? await blockAt(chainId, next) : undefined;
      if (!first) return;
      let startKey: Item | undefined;
      for (;;) {
        const q: { Items?: Item[]; LastEvaluatedKey?: Item } = await send(
          new (ddb().QueryCommand)({
            TableName,
            KeyConditionExpression: "pk = :pk and sk >= :s",
            ExpressionAttributeValues: {
              ":pk": { S: blockPk(chainId) },
              ":s": { N: String(first.start) },
            },
            ConsistentRead: true,
            Limit: 64,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of q.Items ?? []) {
          const b = decodeBlock(item);
          const stop = b.start + b.hashes.length;
          if (b.start > next) return; // a hole: stop here, the core reports the gap
          for (let seq = next; seq < stop && seq < end; seq++) yield entryOf(b, seq);
          next = Math.max(next, stop);
          if (next >= end) return;
        }
        if (!q.LastEvaluatedKey) return;
        startKey = q.LastEvaluatedKey;
      }
    },

    async erasePayload(chainId, seq) {
      const block = Number.isSafeInteger(seq) && seq >= 0 ? await blockAt(chainId, seq) : undefined;
      if (!block) throw new KeywardenError("ERR_INVALID_ARGUMENT", "no such audit entry");
      await send(
        new (ddb().UpdateItemCommand)({
          TableName,
          Key: { pk: { S: blockPk(chainId) }, sk: { N: String(block.start) } },
          UpdateExpression: "REMOVE p.#s",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: { "#s": String(seq) },
        }),
      );
    },

    async findByIdempotencyKey(chainId, key) {
      const r = await send<{ Item?: Item }>(
        new (ddb().GetItemCommand)({
          TableName,
          Key: { pk: { S: reservationPk(chainId, key) }, sk: { N: "0" } },
          ConsistentRead: true,
        }),
      );
      if (!r.Item) return undefined;
      const block = await getBlock(chainId, num(r.Item.at));
      const seq = block ? seqOfKey(block, key) : undefined;
      return block && seq !== undefined ? entryOf(block, seq) : undefined;
    },

    async getTreeNodes(chainId, keys: readonly TreeNodeKey[]) {
      const blocks = new Map<number, Block | undefined>();
      const out: Array<Uint8Array | undefined> = [];
      for (const k of keys) {
        const carrier = nodeCarrier(k.level, k.index);
        const cached = [...blocks.values()].find(
          (b) => b && carrier >= b.start && carrier < b.start + b.hashes.length,
        );
        const block = cached ?? (await blockAt(chainId, carrier));
        if (block) blocks.set(block.start, block);
        const a = block?.nodes[`${k.level}/${k.index}`];
        out.push(a && "B" in a ? new Uint8Array(a.B) : undefined);
      }
      return out;
    },

    async putCheckpoint(chainId, cp) {
      await send(
        new (ddb().PutItemCommand)({
          TableName,
          Item: {
            pk: { S: checkpointPk(chainId) },
            sk: { N: String(cp.size) },
            note: { S: cp.note },
          },
        }),
      );
    },

    async latestCheckpoint(chainId) {
      const r = await send<{ Items?: Item[] }>(
        new (ddb().QueryCommand)({
          TableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: checkpointPk(chainId) } },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const item = r.Items?.[0];
      const note = item?.note;
      return item && note && "S" in note ? { size: num(item.sk), note: note.S } : undefined;
    },
  };
}
