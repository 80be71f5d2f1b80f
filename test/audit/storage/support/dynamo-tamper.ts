import { type DynamoDBClient, QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";

/** Rewrites the body of entry `seq` inside its block item, as a user with table access could. */
export async function blockAt(
  client: DynamoDBClient,
  TableName: string,
  chainId: string,
  seq: number,
  body: string,
): Promise<void> {
  const q = await client.send(
    new QueryCommand({
      TableName,
      KeyConditionExpression: "pk = :pk and sk <= :s",
      ExpressionAttributeValues: { ":pk": { S: `c#${chainId}` }, ":s": { N: String(seq) } },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  const start = Number(q.Items?.[0]?.sk?.N);
  await client.send(
    new UpdateItemCommand({
      TableName,
      Key: { pk: { S: `c#${chainId}` }, sk: { N: String(start) } },
      UpdateExpression: `SET b[${seq - start}] = :b`,
      ExpressionAttributeValues: { ":b": { S: body } },
    }),
  );
}
