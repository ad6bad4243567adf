// The package's public entry point (`@token-rotation/cdk`): what a CDK app imports, and all it
// may import. This repository's own app imports it by the package name too (infra/stack.ts).
export {
  METRIC,
  SERVICE_NAME,
  TokenRotation,
  type TokenRotationLogLevel,
  type TokenRotationProps,
} from './token-rotation.ts';
