/**
 * Genesys Cloud regions and the API/login base URLs they imply (research/genesys.md §8).
 */
import { ConfigError, type ConfigIssue } from '../errors.js';

/**
 * Every Genesys Cloud region by SDK key (`PureCloudRegionHosts`, SDK-JS 259.0.0) → domain.
 * `https://api.<domain>` serves the Platform API and `https://login.<domain>` OAuth.
 */
export const GENESYS_REGIONS = Object.freeze({
  us_east_1: 'mypurecloud.com',
  /** FedRAMP. */
  us_east_2: 'use2.us-gov-pure.cloud',
  us_west_2: 'usw2.pure.cloud',
  ca_central_1: 'cac1.pure.cloud',
  sa_east_1: 'sae1.pure.cloud',
  mx_central_1: 'mxc1.pure.cloud',
  eu_west_1: 'mypurecloud.ie',
  eu_west_2: 'euw2.pure.cloud',
  eu_central_1: 'mypurecloud.de',
  eu_central_2: 'euc2.pure.cloud',
  eusc_de_east_1: 'edee1.eusc-pure.cloud',
  me_central_1: 'mec1.pure.cloud',
  ap_south_1: 'aps1.pure.cloud',
  ap_southeast_1: 'apse1.pure.cloud',
  ap_southeast_2: 'mypurecloud.com.au',
  ap_northeast_1: 'mypurecloud.jp',
  ap_northeast_2: 'apne2.pure.cloud',
  ap_northeast_3: 'apne3.pure.cloud',
} as const);

export type GenesysRegionKey = keyof typeof GENESYS_REGIONS;

export interface GenesysRegion {
  key: GenesysRegionKey;
  domain: string;
}

const REGION_LIST: readonly GenesysRegion[] = Object.entries(GENESYS_REGIONS).map(([key, domain]) => ({
  key: key as GenesysRegionKey,
  domain,
}));

/**
 * Finds a region by key (`us_east_1`, also `us-east-1`) or by domain (`mypurecloud.com`). Like the
 * SDK's `setEnvironment()`, a scheme and an `api.`/`login.` prefix are tolerated, so a pasted
 * `https://api.mypurecloud.ie/` resolves too.
 */
export function findGenesysRegion(input: string): GenesysRegion | undefined {
  const normalized = input
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '')
    .replace(/^(api|login)\./, '');
  const asKey = normalized.replace(/-/g, '_');
  return REGION_LIST.find((region) => region.key === asKey || region.domain === normalized);
}

export interface GenesysUrlsInput {
  /** Region key or domain, e.g. `us_east_1` or `mypurecloud.com`. */
  region?: string;
  /** Overrides the region's API base URL (emulator, proxy, FedRAMP gateway). */
  apiUrl?: string;
  /** Overrides the region's login base URL. */
  loginUrl?: string;
}

export interface GenesysUrls {
  /** Base URL of the Platform API, without a trailing slash. */
  apiUrl: string;
  /** Base URL of the OAuth server, without a trailing slash. */
  loginUrl: string;
}

/**
 * Derives the API and login base URLs from `region`; an explicit `apiUrl`/`loginUrl` wins. With
 * only one explicit URL and no region, the other is derived when the host starts with `api.` or
 * `login.` (the Genesys naming). Throws {@link ConfigError} naming the offending `genesys.*` key.
 */
export function resolveGenesysUrls(input: GenesysUrlsInput): GenesysUrls {
  const issues: ConfigIssue[] = [];
  const apiUrl = normalizeBaseUrl(input.apiUrl, 'genesys.apiUrl', issues);
  const loginUrl = normalizeBaseUrl(input.loginUrl, 'genesys.loginUrl', issues);
  const region = input.region?.trim() ? input.region : undefined;

  let fromRegion: GenesysUrls | undefined;
  if (region !== undefined) {
    const found = findGenesysRegion(region);
    if (found) {
      fromRegion = { apiUrl: `https://api.${found.domain}`, loginUrl: `https://login.${found.domain}` };
    } else {
      issues.push({
        path: 'genesys.region',
        message: `unknown Genesys Cloud region "${region}"; use one of: ${REGION_LIST.map((r) => r.domain).join(', ')}`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const resolvedApi = apiUrl ?? fromRegion?.apiUrl ?? swapHostPrefix(loginUrl, 'login.', 'api.');
  const resolvedLogin = loginUrl ?? fromRegion?.loginUrl ?? swapHostPrefix(apiUrl, 'api.', 'login.');
  if (resolvedApi && resolvedLogin) return { apiUrl: resolvedApi, loginUrl: resolvedLogin };

  if (!apiUrl && !loginUrl) {
    throw new ConfigError([
      {
        path: 'genesys.region',
        message: `required (or genesys.apiUrl and genesys.loginUrl); e.g. mypurecloud.com, one of: ${REGION_LIST.map((r) => r.domain).join(', ')}`,
      },
    ]);
  }
  const missing = resolvedApi ? 'genesys.loginUrl' : 'genesys.apiUrl';
  throw new ConfigError([
    { path: missing, message: `required when ${resolvedApi ? 'genesys.apiUrl' : 'genesys.loginUrl'} is set without genesys.region` },
  ]);
}

function normalizeBaseUrl(value: string | undefined, path: string, issues: ConfigIssue[]): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    issues.push({ path, message: `not a valid URL: "${value}"` });
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    issues.push({ path, message: `must be an http(s) URL, got "${url.protocol}"` });
    return undefined;
  }
  return trimmed;
}

function swapHostPrefix(base: string | undefined, from: string, to: string): string | undefined {
  if (!base) return undefined;
  const url = new URL(base);
  if (!url.hostname.startsWith(from)) return undefined;
  url.hostname = to + url.hostname.slice(from.length);
  return url.toString().replace(/\/+$/, '');
}
