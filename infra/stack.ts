// The stack `cdk deploy` creates: one TokenRotation construct, named for the product. The
// construct comes through the package's public entry point, as in any CDK app (package.json exports).
import { TokenRotation, type TokenRotationProps } from '@token-rotation/cdk';
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

export interface TokenRotationStackProps extends StackProps, TokenRotationProps {}

export class TokenRotationStack extends Stack {
  readonly tokenRotation: TokenRotation;

  constructor(scope: Construct, id: string, props: TokenRotationStackProps = {}) {
    super(scope, id, {
      description:
        'token-rotation: rotates Secrets Manager tokens on a maximum lifespan, with an audit trail and alerts',
      ...props,
    });
    // The construct ID is part of every resource's logical ID: renaming it replaces them all.
    this.tokenRotation = new TokenRotation(this, 'TokenRotation', props);
  }
}
