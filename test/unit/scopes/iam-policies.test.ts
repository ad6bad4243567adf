import { describe, expect, it } from 'vitest';
import { ValidationError } from '#domain/errors';
import { allowedActions } from '#domain/kinds/iam-access-key/scopes';

const ctx = { secretName: 'ci/deployer' };
const doc = (statement: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: statement });

describe("an IAM user's allowed actions, read on the safe side", () => {
  it('collects Allow actions of every document, single or listed, each once', () => {
    // Act
    const actions = allowedActions(
      [
        { source: 'inline policy a', document: doc({ Effect: 'Allow', Action: 's3:GetObject' }) },
        {
          source: 'managed policy b',
          document: doc([
            { Effect: 'Allow', Action: ['s3:GetObject', 'sqs:*'] },
            { Effect: 'Deny', Action: '*' },
          ]),
        },
      ],
      ctx,
    );

    // Assess: Deny is not subtracted (it may name other resources)
    expect(actions).toEqual(['s3:GetObject', 'sqs:*']);
  });

  it('counts an Allow with NotAction as every action', () => {
    expect(
      allowedActions(
        [{ source: 'inline policy c', document: doc({ Effect: 'Allow', NotAction: 'iam:*' }) }],
        ctx,
      ),
    ).toEqual(['*']);
  });

  it('refuses a document it cannot read, naming where it came from and not quoting it', () => {
    const canary = 'AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMIK7MDENGbPxRfiCY';
    for (const document of [
      `{"Statement": ${canary}`,
      doc({ Effect: 'Allow', Action: [canary, 7] }),
    ]) {
      let error: unknown;
      try {
        allowedActions([{ source: 'inline policy d of user u', document }], ctx);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect(String(error)).toContain('inline policy d of user u');
      expect(String(error)).not.toContain(canary);
    }
  });
});
