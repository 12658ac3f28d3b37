/** Several request observers heard as one (metrics, the access log). */
import type { RequestEnd, RequestObserver } from "./request-end.ts";

export class Observers implements RequestObserver {
  private readonly list: RequestObserver[] = [];

  add(observer: RequestObserver): void {
    this.list.push(observer);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  requestEnded(request: RequestEnd): void {
    for (const observer of this.list) observer.requestEnded(request);
  }
}
