// Test-only custom issuer that misbehaves as MODE says: `garbage` answers text quoting the token,
// `throw` fails with the token in its error, `hang` never answers (the function times out).
export async function handler(request: { current?: string }): Promise<unknown> {
  switch (process.env.MODE) {
    case 'garbage':
      return `<html>upstream said ${request.current}</html>`;
    case 'throw':
      throw new Error(`upstream rejected ${request.current}`);
    default:
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      return undefined;
  }
}
