/**
 * Validates an SDK input object against a botocore JSON service model (the format of
 * test/fixtures/models/mediaconvert-2017-08-29.json): required members, unknown members, enums,
 * min/max, patterns and types, walking structures, lists and maps from a starting shape.
 *
 * Member names are the model's (PascalCase, as the SDK v3 input uses them), not the camelCase
 * `locationName`s of the rest-json wire format. Why hand-written: see docs/adr/0010-contract-test-against-api-model.md.
 */

interface MemberRef {
  readonly shape: string;
  readonly locationName?: string;
}

export interface ModelShape {
  readonly type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'double' | 'float' | 'boolean' | 'timestamp' | 'blob';
  readonly members?: Readonly<Record<string, MemberRef>>;
  readonly required?: readonly string[];
  readonly member?: MemberRef;
  readonly key?: MemberRef;
  readonly value?: MemberRef;
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
}

export interface ServiceModel {
  readonly shapes: Readonly<Record<string, ModelShape>>;
}

export type ViolationKind =
  | 'missing-required'
  | 'unknown-member'
  | 'bad-enum'
  | 'out-of-range'
  | 'wrong-type'
  | 'pattern-mismatch'
  | 'unknown-shape';

export interface ContractViolation {
  readonly kind: ViolationKind;
  /** Where in the input, e.g. `Settings.OutputGroups[0].Outputs[1].VideoDescription.Width`. */
  readonly path: string;
  readonly message: string;
}

/**
 * botocore drops min/max from `double` shapes, but their generated names still carry them
 * (`__doubleMin1Max10`, `__doubleMinNegative60Max6`); read the bounds back from the name.
 */
function boundsFromShapeName(name: string): { min?: number; max?: number } {
  const match = /^__double(?:Min(Negative)?(\d+))?(?:Max(Negative)?(\d+))?$/.exec(name);
  if (!match) return {};
  const bound = (negative: string | undefined, digits: string | undefined) =>
    digits === undefined ? undefined : (negative ? -1 : 1) * Number(digits);
  const min = bound(match[1], match[2]);
  const max = bound(match[3], match[4]);
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : `${typeof value} ${JSON.stringify(value)}`;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);

const joinPath = (path: string, member: string) => (path ? `${path}.${member}` : member);

/** Returns every violation found (empty when the value conforms). `undefined` members count as absent, as in the SDK. */
export function validateAgainstModel(model: ServiceModel, shapeName: string, value: unknown, path = ''): ContractViolation[] {
  const violations: ContractViolation[] = [];
  const report = (kind: ViolationKind, at: string, message: string) => violations.push({ kind, path: at || '(root)', message });
  const patterns = new Map<string, RegExp | null>();

  const patternOf = (source: string): RegExp | null => {
    if (!patterns.has(source)) {
      try {
        patterns.set(source, new RegExp(source));
      } catch {
        patterns.set(source, null); // a construct JavaScript lacks: not checkable here
      }
    }
    return patterns.get(source) ?? null;
  };

  const checkRange = (at: string, name: string, shape: ModelShape, measured: number, what: string) => {
    const { min, max } = { ...boundsFromShapeName(name), ...(shape.min === undefined ? {} : { min: shape.min }), ...(shape.max === undefined ? {} : { max: shape.max }) };
    if (min !== undefined && measured < min) report('out-of-range', at, `${what} ${measured} is below the minimum ${min} (${name})`);
    if (max !== undefined && measured > max) report('out-of-range', at, `${what} ${measured} is above the maximum ${max} (${name})`);
  };

  const visit = (name: string, current: unknown, at: string): void => {
    const shape = model.shapes[name];
    if (!shape) {
      report('unknown-shape', at, `the model has no shape "${name}"`);
      return;
    }
    switch (shape.type) {
      case 'structure': {
        if (!isPlainObject(current)) return void report('wrong-type', at, `expected a structure (${name}), got ${describe(current)}`);
        const members = shape.members ?? {};
        for (const required of shape.required ?? []) {
          if (current[required] === undefined) report('missing-required', joinPath(at, required), `${name}.${required} is required`);
        }
        for (const [key, memberValue] of Object.entries(current)) {
          if (memberValue === undefined) continue;
          const member = members[key];
          if (!member) {
            const wireName = Object.entries(members).find(([, ref]) => ref.locationName === key)?.[0];
            const hint = wireName ? ` (that is the wire name of ${wireName})` : '';
            report('unknown-member', joinPath(at, key), `${name} has no member "${key}"${hint}`);
            continue;
          }
          visit(member.shape, memberValue, joinPath(at, key));
        }
        return;
      }
      case 'list': {
        if (!Array.isArray(current)) return void report('wrong-type', at, `expected a list (${name}), got ${describe(current)}`);
        checkRange(at, name, shape, current.length, 'list length');
        current.forEach((item, index) => visit(shape.member!.shape, item, `${at}[${index}]`));
        return;
      }
      case 'map': {
        if (!isPlainObject(current)) return void report('wrong-type', at, `expected a map (${name}), got ${describe(current)}`);
        checkRange(at, name, shape, Object.keys(current).length, 'map size');
        for (const [key, entry] of Object.entries(current)) {
          visit(shape.key!.shape, key, `${at}{key ${JSON.stringify(key)}}`);
          visit(shape.value!.shape, entry, `${at}[${JSON.stringify(key)}]`);
        }
        return;
      }
      case 'string': {
        if (typeof current !== 'string') return void report('wrong-type', at, `expected a string (${name}), got ${describe(current)}`);
        if (shape.enum && !shape.enum.includes(current)) {
          report('bad-enum', at, `"${current}" is not one of ${name}: ${shape.enum.join(', ')}`);
        }
        checkRange(at, name, shape, current.length, 'string length');
        if (shape.pattern) {
          const pattern = patternOf(shape.pattern);
          if (pattern && !pattern.test(current)) report('pattern-mismatch', at, `"${current}" does not match ${name} /${shape.pattern}/`);
        }
        return;
      }
      case 'integer':
      case 'long': {
        if (typeof current !== 'number' || !Number.isInteger(current)) {
          return void report('wrong-type', at, `expected an integer (${name}), got ${describe(current)}`);
        }
        checkRange(at, name, shape, current, 'value');
        return;
      }
      case 'double':
      case 'float': {
        if (typeof current !== 'number' || !Number.isFinite(current)) {
          return void report('wrong-type', at, `expected a number (${name}), got ${describe(current)}`);
        }
        checkRange(at, name, shape, current, 'value');
        return;
      }
      case 'boolean': {
        if (typeof current !== 'boolean') report('wrong-type', at, `expected a boolean (${name}), got ${describe(current)}`);
        return;
      }
      case 'timestamp': {
        if (!(current instanceof Date) && typeof current !== 'number' && typeof current !== 'string') {
          report('wrong-type', at, `expected a timestamp (${name}), got ${describe(current)}`);
        }
        return;
      }
      case 'blob': {
        if (!(current instanceof Uint8Array) && typeof current !== 'string') report('wrong-type', at, `expected a blob (${name}), got ${describe(current)}`);
        return;
      }
      default:
        report('unknown-shape', at, `shape "${name}" has unsupported type "${(shape as ModelShape).type}"`);
    }
  };

  visit(shapeName, value, path);
  return violations;
}
