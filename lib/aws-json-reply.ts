/**
 * The answer of an AWS JSON-protocol call made with a signed `fetch` (aws4fetch): the parsed body, and the
 * line to report if the caller finds it failed — AWS's error type (`__type`, without its namespace) and
 * message, or, for a body that is not JSON (an HTML error page from a proxy), the HTTP status and its start.
 */
export async function readAwsJsonReply<T>(response: Response): Promise<{ body: Partial<T>; problem: string }> {
  const text = await response.text();
  let body: Partial<T> & { __type?: string; message?: string; Message?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported by status below
  }
  const type = body.__type?.split('#').pop() ?? `HTTP ${response.status}`;
  return { body, problem: `${type}: ${body.message ?? body.Message ?? text.slice(0, 200)}` };
}
