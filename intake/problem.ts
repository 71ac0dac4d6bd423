import type { FastifyReply } from "fastify";
import { MdeCancelError } from "../shared/core/errors.js";

/** One bad part of a request: a body field (`machineActionIds.3`), a parameter or a header. */
export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, the body of every error the intake answers. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** For 400: each bad field. */
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Stable, dereferenceable-enough problem types: `urn:mde-cancel:problem:<slug>`. */
const TITLES: Record<number, [slug: string, title: string]> = {
  400: ["invalid-request", "The request is invalid"],
  401: ["unauthenticated", "An API key is required"],
  403: ["forbidden", "This API key may not do that"],
  404: ["not-found", "Not found"],
  409: ["in-progress", "The same request is still being answered"],
  413: ["too-large", "The body is too large"],
  415: ["unsupported-media-type", "The body must be JSON"],
  422: ["idempotency-key-reused", "The Idempotency-Key was used with another request"],
  429: ["rate-limited", "Too many requests for this API key"],
  500: ["internal", "Internal error"],
  502: ["upstream", "Defender did not answer as expected"],
  503: ["unavailable", "The service is not ready"],
};

/**
 * An error the intake answers with a problem (4xx, or a 5xx whose detail is safe to show).
 * Product code throws it; the error handler sends it.
 */
export class IntakeProblem extends MdeCancelError {
  override name = "IntakeProblem";
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Seconds, sent as Retry-After (429, 409, 503). */
    readonly retryAfter?: number,
  ) {
    super(detail);
  }

  toProblem(): Problem {
    const [slug, title] = TITLES[this.status] ?? TITLES[500] ?? ["internal", "Internal error"];
    return {
      type: `urn:mde-cancel:problem:${slug}`,
      title,
      status: this.status,
      detail: this.detail,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

/** A 400 naming one field; `message` reads after the field's name ("must be a GUID"). */
export function fieldProblem(field: string, message: string): IntakeProblem {
  return new IntakeProblem(400, `${field} ${message}.`, [{ field, message }]);
}

/** Sends the problem as application/problem+json, bypassing the routes' response schemas. */
export function sendProblem(reply: FastifyReply, problem: IntakeProblem): FastifyReply {
  if (problem.retryAfter !== undefined) reply.header("retry-after", String(problem.retryAfter));
  return reply
    .code(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .serializer(JSON.stringify)
    .send(problem.toProblem());
}
