/** An AWS service error as it goes on the wire: code (`__type` / `<Code>`), HTTP status, message. */
export class AwsServiceError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
  }
}
