import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { errorMessage } from "../shared/core/errors.js";
import { BODY_LIMIT_BYTES } from "./limits.js";
import { type FieldError, fieldProblem, IntakeProblem, sendProblem } from "./problem.js";

/** Every error of every route, and every unknown route, answered as problem+json. */
export function answerErrorsAsProblems(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const problem = toProblem(err, request.headers["content-type"]);
    if (problem.status >= 500)
      request.log.error({ err: errorMessage(err), route: request.routeOptions.url }, "intake request failed");
    else if (request.intake) request.intake.refusal = problem.detail;
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const problem = new IntakeProblem(
      404,
      `No route ${request.method} ${request.url.replace(/\?.*/, "")}; see /docs.`,
    );
    request.intake.refusal = problem.detail;
    return sendProblem(reply, problem);
  });
}

/** Fastify's `frameworkErrors`: a URL it cannot decode is refused before any route or hook runs. */
export function frameworkErrorAsProblem(
  err: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  sendProblem(reply, toProblem(err, request.headers["content-type"]));
}

/** The problem an error stands for; anything unexpected is a 500 that shows nothing of it. */
export function toProblem(err: unknown, contentType: string | undefined): IntakeProblem {
  if (err instanceof IntakeProblem) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const errors = err.validation.flatMap((v) => fieldErrors(err.validationContext ?? "body", v));
    return new IntakeProblem(400, `${errors.map((e) => `${e.field} ${e.message}`).join("; ")}.`, errors);
  }
  const code = (err as Partial<FastifyError>).code;
  switch (code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return fieldProblem("body", "is not valid JSON");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return fieldProblem("body", "must not be empty: send a JSON object");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new IntakeProblem(413, `The body is larger than ${BODY_LIMIT_BYTES} bytes (1 MB), the limit.`);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new IntakeProblem(
        415,
        `The body must be JSON sent as Content-Type: application/json, not ${JSON.stringify(contentType ?? "(none)")}.`,
      );
  }
  const status = (err as Partial<FastifyError>).statusCode;
  // Fastify's own refusals (bad Content-Length, __proto__ in a body...) carry a 4xx and a safe message.
  if (status !== undefined && status >= 400 && status < 500)
    return new IntakeProblem(status, errorMessage(err));
  return new IntakeProblem(500, "Internal error; the service's log has the details.");
}

type Validation = {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
};

/** `/machineActionIds/3` in the body → `machineActionIds.3`; an unknown key names itself. */
function fieldErrors(context: string, v: Validation): FieldError[] {
  const path = v.instancePath.split("/").filter(Boolean).join(".");
  if (v.keyword === "unrecognized_keys") {
    const keys = (v.params.keys as string[] | undefined) ?? [];
    return keys.map((key) => ({ field: path ? `${path}.${key}` : key, message: "is not a known field" }));
  }
  if (!path)
    return [{ field: context, message: context === "body" ? "must be a JSON object" : "is invalid" }];
  return [{ field: path, message: v.message ?? "is invalid" }];
}
