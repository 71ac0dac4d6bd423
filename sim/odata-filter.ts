import { ACTION_STATUSES, type MachineAction } from "./machine-action.js";

/**
 * The subset of OData `$filter` that Defender documents for GET /api/machineactions: fields id, status,
 * machineId, type, requestor, creationDateTimeUtc; eq ne in, and or not, parentheses; quoted strings;
 * unquoted ISO dates compared with gt ge lt le eq ne. Anything else is an ODataFilterError (400 ODataError).
 */
export class ODataFilterError extends Error {
  override name = "ODataFilterError";
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
  }
}

const STRING_FIELDS = ["id", "status", "machineId", "type", "requestor"] as const;
const DATE_FIELD = "creationDateTimeUtc";
type StringField = (typeof STRING_FIELDS)[number];
type Field = StringField | typeof DATE_FIELD;
const FIELDS: readonly Field[] = [...STRING_FIELDS, DATE_FIELD];
const COMPARISONS = ["eq", "ne", "gt", "ge", "lt", "le"] as const;
type Comparison = (typeof COMPARISONS)[number];

export type FilterExpr =
  | { kind: "and" | "or"; left: FilterExpr; right: FilterExpr }
  | { kind: "not"; operand: FilterExpr }
  | { kind: "compare"; field: StringField; op: "eq" | "ne"; value: string }
  | { kind: "in"; field: StringField; values: string[] }
  | { kind: "date"; field: typeof DATE_FIELD; op: Comparison; value: number };

type Token = { kind: "word" | "string" | "(" | ")" | ","; text: string; pos: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) i++;
    else if (c === "(" || c === ")" || c === ",") tokens.push({ kind: c, text: c, pos: i++ });
    else if (c === "'") {
      const start = i++;
      let value = "";
      for (;;) {
        if (i >= text.length) throw new ODataFilterError("Unterminated string literal", start);
        if (text[i] === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (text[i] === "'") {
          i++;
          break;
        } else value += text[i++];
      }
      tokens.push({ kind: "string", text: value, pos: start });
    } else {
      const match = /^[A-Za-z0-9_.:+-]+/.exec(text.slice(i));
      if (!match) throw new ODataFilterError(`Unexpected character '${c}'`, i);
      tokens.push({ kind: "word", text: match[0], pos: i });
      i += match[0].length;
    }
  }
  return tokens;
}

/** Parses a `$filter` value; throws ODataFilterError when it is malformed or uses what Defender refuses. */
export function parseFilter(text: string): FilterExpr {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const endPos = text.length;
  const isWord = (word: string) => peek()?.kind === "word" && peek()?.text.toLowerCase() === word;
  const next = (what: string): Token => {
    const token = tokens[at++];
    if (!token) throw new ODataFilterError(`Expected ${what} but the filter ended`, endPos);
    return token;
  };
  const expect = (kind: Token["kind"], what: string) => {
    const token = next(what);
    if (token.kind !== kind)
      throw new ODataFilterError(`Expected ${what} but found '${token.text}'`, token.pos);
    return token;
  };

  const orExpr = (): FilterExpr => {
    let left = andExpr();
    while (isWord("or")) {
      at++;
      left = { kind: "or", left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): FilterExpr => {
    let left = unary();
    while (isWord("and")) {
      at++;
      left = { kind: "and", left, right: unary() };
    }
    return left;
  };
  const unary = (): FilterExpr => {
    if (isWord("not")) {
      at++;
      return { kind: "not", operand: unary() };
    }
    if (peek()?.kind === "(") {
      at++;
      const inner = orExpr();
      expect(")", "')'");
      return inner;
    }
    return comparison();
  };
  const stringValue = (): string => expect("string", "a quoted string literal").text;
  const comparison = (): FilterExpr => {
    const fieldToken = expect("word", "a property name");
    const field = FIELDS.find((f) => f.toLowerCase() === fieldToken.text.toLowerCase());
    if (!field) throw new ODataFilterError(`Property '${fieldToken.text}' is not filterable`, fieldToken.pos);
    const opToken = expect("word", "an operator");
    const op = opToken.text.toLowerCase();
    if (field === DATE_FIELD) {
      if (!COMPARISONS.includes(op as Comparison)) {
        throw new ODataFilterError(`Operator '${opToken.text}' is not supported on ${field}`, opToken.pos);
      }
      const literal = expect("word", "an unquoted date literal");
      const value = Date.parse(literal.text);
      if (!/^\d{4}-\d{2}-\d{2}/.test(literal.text) || Number.isNaN(value)) {
        throw new ODataFilterError(`'${literal.text}' is not a valid date`, literal.pos);
      }
      return { kind: "date", field, op: op as Comparison, value };
    }
    if (op === "in") {
      expect("(", "'('");
      const values = [stringValue()];
      while (peek()?.kind === ",") {
        at++;
        values.push(stringValue());
      }
      expect(")", "')'");
      for (const v of values) checkValue(field, v, opToken.pos);
      return { kind: "in", field, values };
    }
    if (op !== "eq" && op !== "ne") {
      throw new ODataFilterError(`Operator '${opToken.text}' is not supported on ${field}`, opToken.pos);
    }
    const value = stringValue();
    checkValue(field, value, opToken.pos);
    return { kind: "compare", field, op, value };
  };

  if (tokens.length === 0) throw new ODataFilterError("The filter is empty", 0);
  const expr = orExpr();
  const rest = peek();
  if (rest) throw new ODataFilterError(`Unexpected '${rest.text}'`, rest.pos);
  return expr;
}

// Defender parses status into its enum, so an unknown status is a client bug worth a 400.
function checkValue(field: StringField, value: string, pos: number): void {
  if (field === "status" && !ACTION_STATUSES.some((s) => s.toLowerCase() === value.toLowerCase())) {
    throw new ODataFilterError(`'${value}' is not a valid status`, pos);
  }
}

/** String comparisons ignore case: GUIDs, hex machine ids, e-mail requestors and enums all compare that way. */
export function evaluateFilter(expr: FilterExpr, action: MachineAction): boolean {
  switch (expr.kind) {
    case "and":
      return evaluateFilter(expr.left, action) && evaluateFilter(expr.right, action);
    case "or":
      return evaluateFilter(expr.left, action) || evaluateFilter(expr.right, action);
    case "not":
      return !evaluateFilter(expr.operand, action);
    case "compare":
      return sameText(action[expr.field], expr.value) === (expr.op === "eq");
    case "in":
      return expr.values.some((v) => sameText(action[expr.field], v));
    case "date":
      return compareDates(Date.parse(action.creationDateTimeUtc), expr.op, expr.value);
  }
}

/** Parses once and returns a predicate over actions. */
export function compileFilter(text: string): (action: MachineAction) => boolean {
  const expr = parseFilter(text);
  return (action) => evaluateFilter(expr, action);
}

const sameText = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function compareDates(a: number, op: Comparison, b: number): boolean {
  switch (op) {
    case "eq":
      return a === b;
    case "ne":
      return a !== b;
    case "gt":
      return a > b;
    case "ge":
      return a >= b;
    case "lt":
      return a < b;
    case "le":
      return a <= b;
  }
}
