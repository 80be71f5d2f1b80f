/** Reads a Blob (a picked or dropped File) as a stream of byte chunks, without loading it whole. */
export async function* blobChunks(blob: Blob): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value && value.length > 0) yield value;
    }
  } finally {
    // Stopping early (format sniffing, a failure) cancels the read instead of draining the file.
    await reader.cancel().catch(() => {});
  }
}
