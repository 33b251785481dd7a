// Drives the official Shlink JS SDK against the server started by
// handlers/shlink_sdk_test.go and prints what each call returned (or threw)
// as one JSON object; the Go test asserts on it.
import { ShlinkApiClient } from '@shlinkio/shlink-js-sdk';
import { FetchHttpClient } from '@shlinkio/shlink-js-sdk/fetch';

const { SHLINK_BASE_URL: baseUrl, SHLINK_API_KEY: apiKey, LONG_URL: longUrl, OTHER_URL: otherUrl, SEARCH_TERM: searchTerm } = process.env;
const http = new FetchHttpClient();
const client = new ShlinkApiClient(http, { baseUrl, apiKey });
const out = {};

// settle records a call's result, or the problem details it threw.
const settle = async (name, call) => {
  try {
    out[name] = { ok: await call() ?? null };
  } catch (e) {
    out[name] = { error: e instanceof Error ? { message: e.message } : e };
  }
};

await settle('health', () => client.health());
await settle('first', () => client.createShortUrl({ longUrl, findIfExists: true }));
await settle('second', () => client.createShortUrl({ longUrl, findIfExists: true, tags: ['sms'] }));
await settle('other', () => client.createShortUrl({ longUrl: otherUrl }));
await settle('list', () => client.listShortUrls({ searchTerm }));
const shortCode = out.first.ok?.shortCode ?? 'missing';
await settle('get', () => client.getShortUrl({ shortCode }));
await settle('visits', () => client.getShortUrlVisits({ shortCode }));
await settle('overview', () => client.getVisitsOverview());
await settle('expiring', () => client.createShortUrl({ longUrl, validUntil: '2030-01-01T00:00:00+00:00' }));
await settle('delete', () => client.deleteShortUrl({ shortCode }));
await settle('afterDelete', () => client.getShortUrl({ shortCode }));
const wrongKey = new ShlinkApiClient(http, { baseUrl, apiKey: 'not-a-key' });
await settle('wrongKey', () => wrongKey.listShortUrls());

console.log(JSON.stringify(out));
