/** Reads Server-Sent Events off a response, one at a time (the dashboard's stream). */
export function events(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<{ event: string; data: unknown }> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
          const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join("\n");
          return { event, data: JSON.parse(data) };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffer += value;
      }
    },
    /** Reads events until one's data passes `wanted`, at most `limit` of them; returns it. */
    async until<T>(wanted: (data: T) => boolean, limit: number, what: string): Promise<T> {
      for (let i = 0; i < limit; i++) {
        const data = (await this.next()).data as T;
        if (wanted(data)) return data;
      }
      throw new Error(`no event with ${what} in ${limit}`);
    },
    close: () => reader.cancel(),
  };
}
