// `revoke <secret> --reason ... [--quarantine]`: invokes the stack's revoke function with the
// event the Lambda console's Test tab sends ({secretId, reason, mode}) and the caller's STS ARN as
// `requestedBy` (recorded as claimed), so the CLI takes the console's path, and says what was
// revoked. The function does the work, audit and alert.
import { scrub } from '#domain/errors';
import { choice, UsageError } from '../args.ts';
import { CliError, findSecret, STACK_OUTPUT } from '../aws.ts';
import { renderTable } from '../format.ts';
import type { Command } from '../main.ts';
import { invokeRevokeFunction, type RevokeResult } from '../revoke-function.ts';

export const revoke: Command = async (ctx) => {
  const format = choice(ctx.values.format, 'format', ['text', 'json'], 'text', 'revoke');
  const reason = ctx.values.reason;
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new UsageError(
      'revoke needs --reason "<why>": it goes to the audit trail and the alert',
      'revoke',
    );
  }
  const mode = ctx.values.quarantine === true ? 'quarantine' : 'reissue';
  const stack = await ctx.stack();
  const functionName = stack.require(...STACK_OUTPUT.revokeFunction);
  const secret = await findSecret(ctx.connection, ctx.positionals[0]!);

  ctx.progress(
    `revoking every live token of ${secret.name} (mode ${mode}) through ${functionName}…`,
  );
  const answer = await invokeRevokeFunction(ctx.connection, functionName, {
    secretArn: secret.arn,
    reason,
    mode,
  });

  if (!answer.ok) {
    const { refused, errorType, message } = answer;
    if (format === 'json') {
      ctx.out(
        `${JSON.stringify({ status: refused ? 'refused' : 'failed', errorType, message }, null, 2)}\n`,
      );
    }
    throw new CliError(
      refused
        ? `the revoke was refused and nothing was changed: ${message}`
        : `the revoke FAILED (${errorType ?? 'error'}): ${message}\nThe failure is in the audit trail (revoke.failed) and was alerted; run "token-rotation audit ${secret.name}" for what was and was not revoked, then retry.`,
      refused ? 2 : 1,
    );
  }

  const result = answer.result;
  if (format === 'json') {
    ctx.out(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    ctx.out(describe(result, secret.name, mode));
  }
  return result.status === 'completed' || result.status === 'duplicate' ? 0 : 1;
};

function describe(result: RevokeResult, name: string, mode: string): string {
  const who = `${result.secretName ?? name}${result.secretArn ? ` (${result.secretArn})` : ''}`;
  if (result.status === 'completed') {
    const rows = (result.revoked ?? []).map((v) => [
      v.versionId ?? '',
      (v.stages ?? []).join(','),
      v.token ?? '',
    ]);
    const fresh =
      (result.mode ?? mode) === 'quarantine'
        ? `AWSCURRENT is now the quarantine notice (version ${result.newVersionId}): consumers have NO valid token until a person restores it with a revoke in mode reissue.`
        : `AWSCURRENT is now a fresh token (version ${result.newVersionId}): consumers pick it up at their next read.`;
    return [
      `Revoked ${who}`,
      `mode ${result.mode ?? mode}, revoke ${result.revokeId ?? ''}`,
      '',
      rows.length > 0
        ? `Tokens revoked at their issuer:\n${renderTable(['VERSION', 'STAGES', 'TOKEN'], rows)}`
        : 'No live token was found to revoke.\n',
      fresh,
      `Alert: ${result.alert ?? 'unknown'}. Audit: token-rotation audit ${result.secretName ?? name}`,
      '',
    ].join('\n');
  }
  if (result.status === 'duplicate') {
    return `Already handled: ${scrub(result.message ?? '')} (revoke ${result.revokeId}, ${result.state}). Nothing more was done to ${who}.\n`;
  }
  return `Nothing was revoked on ${who}: ${scrub(result.message ?? `the revoke function answered ${JSON.stringify(result.status ?? null)}`)}\n`;
}
