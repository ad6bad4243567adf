// Counts cdk-nag's findings on the app `cdk synth` builds, per pack: every finding, how many are
// acknowledged (each with its reason in infra/), and how many are left. Run:
//   npx tsx test/infra/nag-counts.ts [-c key=value ...]
// nag.test.ts asserts the "left" column is empty; this shows the whole picture, rule by rule.
import type { IConstruct } from 'constructs';
import { nagPacks } from '../../infra/nag.ts';
import { synthApp } from './support.ts';

const context: Record<string, string> = {};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '-c' && args[i + 1]?.includes('=')) {
    const [key, ...value] = args[++i]!.split('=');
    context[key!] = value.join('=');
  }
}

type Pack = ReturnType<typeof nagPacks>[number];

/** "rule at path" for each finding; with `all`, acknowledgements are ignored. */
function findings(pack: Pack, scope: IConstruct, all: boolean): string[] {
  // The packs' only acknowledgement check is this private method: bypassing it counts every
  // finding the rules raise, acknowledged or not.
  const unchecked = pack as unknown as { isAcknowledged: (...a: unknown[]) => boolean };
  if (all) unchecked.isAcknowledged = () => false;
  return pack
    .validateScope(scope)
    .violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
    );
}

// Synthesized first, as nag.test.ts and `cdk synth` do: some policies are only complete then.
const { app } = synthApp(context);
for (const [index, pack] of nagPacks(app).entries()) {
  const left = findings(pack, app, false);
  const every = findings(nagPacks(app)[index]!, app, true);
  const byRule = new Map<string, number>();
  for (const finding of every) {
    const rule = finding.split(' at ')[0]!.replace(/\[.*$/, '');
    byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
  }
  console.log(
    `${pack.readPackName}: ${every.length} findings, ${every.length - left.length} acknowledged, ${left.length} left`,
  );
  for (const [rule, count] of [...byRule].sort()) console.log(`  ${rule}: ${count}`);
  for (const finding of left) console.log(`  LEFT ${finding}`);
}
