import { capturedLogs, findLeaks, rememberedTokens } from './log-capture';

/**
 * Runs after every test file (jest setupFilesAfterEach): the Nest Logger output of the whole file,
 * debug level included, contains no token, only short hashes and reason codes.
 */
afterAll(() => {
  const leaks = findLeaks(capturedLogs(), rememberedTokens());
  if (leaks.length > 0) {
    throw new Error(
      `A token appeared in the logs:\n${leaks.slice(0, 3).join('\n').slice(0, 2000)}`,
    );
  }
});
