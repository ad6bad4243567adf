// ListSecrets' Filters, checked as AWS's request validation checks them and turned into one
// predicate per filter over the emulator's secrets.
import { type Secret, validation } from './secrets-manager-model.ts';

const KEYS = [
  'description',
  'name',
  'tag-key',
  'tag-value',
  'primary-region',
  'owning-service',
  'all',
];

/**
 * ListSecrets filters (API reference, Filter): name, tag-key, tag-value, primary-region and
 * owning-service are case-sensitive prefix matches; description is a case-insensitive prefix;
 * `all` matches words anywhere. A value starting with `!` negates. Values within a filter are
 * alternatives; filters all apply. Note tag-key and tag-value match independently: tag-key=a
 * with tag-value=b also matches a secret tagged a=x, c=b.
 */
export function listFilters(filters: unknown): ((s: Secret) => boolean)[] {
  if (filters === undefined) return [];
  if (!Array.isArray(filters) || filters.length > 10) {
    throw validation('filters', filters, 'Member must have length less than or equal to 10');
  }
  return filters.map((filter: { Key?: string; Values?: string[] }) => {
    const key = filter.Key;
    const values = filter.Values ?? [];
    checkFilter(key, values);
    return (s: Secret) =>
      values.some((raw) => {
        const negated = raw.startsWith('!');
        let value = negated ? raw.slice(1) : raw;
        if (key === 'description' || key === 'all') value = value.toLowerCase();
        const hit =
          key === 'all'
            ? value
                .split(/[^a-z0-9]+/)
                .filter(Boolean)
                .every((w) => fields(key, s).includes(w))
            : fields(key, s).some((f) => f.startsWith(value));
        return negated ? !hit : hit;
      });
  });
}

function checkFilter(key: string | undefined, values: string[]): asserts key is string {
  if (!key || !KEYS.includes(key)) {
    throw validation(
      'filters.member.key',
      key,
      `Member must satisfy enum value set: [${KEYS.join(', ')}]`,
    );
  }
  if (values.length < 1 || values.length > 10) {
    throw validation('filters.member.values', values, 'Member must have length between 1 and 10');
  }
  for (const value of values) {
    if (!/^!?[a-zA-Z0-9 :_@/+=.\-!]*$/.test(value) || value.length > 512) {
      throw validation(
        'filters.member.values',
        value,
        'Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$',
      );
    }
  }
}

/** What a filter key matches against in a secret (`all`: its words, lowercased). */
function fields(key: string, s: Secret): string[] {
  switch (key) {
    case 'name':
      return [s.name];
    case 'description':
      return s.description ? [s.description.toLowerCase()] : [];
    case 'tag-key':
      return s.tags.map((t) => t.Key);
    case 'tag-value':
      return s.tags.map((t) => t.Value);
    case 'all':
      return [s.name, s.description ?? '', ...s.tags.flatMap((t) => [t.Key, t.Value])].flatMap(
        (text) =>
          text
            .split(
              /[^a-zA-Z0-9]+|(?<=[a-z])(?=[A-Z])|(?<=[a-zA-Z])(?=[0-9])|(?<=[0-9])(?=[a-zA-Z])/,
            )
            .map((w) => w.toLowerCase()),
      );
    default:
      return []; // no replicated or service-owned secrets here
  }
}
