import { PROBLEM_CONTENT_TYPE } from "../problem.js";
import { problem } from "./fields.js";

/**
 * Every error of a route, documented once: problem details with the status in the body. The
 * statuses are listed in the description, since Swagger 2.0 has no `4XX`.
 */
export const problemResponse = {
  default: {
    description:
      "Problem details: 400 invalid (errors names each field), 401 no or unknown key, 403 not allowed for this key, 404 unknown, 413 body over 1 MB, 415 not JSON, 422 Idempotency-Key reused with another body, 429 over the key's rate limit (Retry-After), 500.",
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problem } },
  },
};
