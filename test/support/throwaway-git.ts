// git in a throwaway repository, as the scan tests and the demo build them: no system or user
// configuration (HOME is the repository), a fixed author and committer, nothing else inherited
// but PATH.
import { execFileSync } from 'node:child_process';

/** The environment for git in `repo`, plus `extra` (dates, the hook's command). */
export function throwawayGitEnv(
  repo: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: repo,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Dev',
    GIT_AUTHOR_EMAIL: 'dev@example.com',
    GIT_COMMITTER_NAME: 'Dev',
    GIT_COMMITTER_EMAIL: 'dev@example.com',
    ...extra,
  };
}

/** `git -C repo <args>` in that environment; its output, trimmed. Throws when git fails. */
export function throwawayGit(repo: string, args: string[], extra?: Record<string, string>): string {
  // git's own chatter on stderr (a merge's "Automatic merge went well") stays out of the test
  // run's console; a failing command throws with it in the error.
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: throwawayGitEnv(repo, extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}
