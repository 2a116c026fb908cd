import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { GENESYS_REGIONS, findGenesysRegion, resolveGenesysUrls } from './regions.js';

function configIssues(run: () => unknown): ConfigError['issues'] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('GENESYS_REGIONS', () => {
  it('lists the 18 regions of the SDK with distinct domains', () => {
    const domains = Object.values(GENESYS_REGIONS);
    expect(domains).toHaveLength(18);
    expect(new Set(domains).size).toBe(18);
    expect(GENESYS_REGIONS.eu_central_1).toBe('mypurecloud.de');
    expect(GENESYS_REGIONS.us_east_2).toBe('use2.us-gov-pure.cloud');
  });

  it('finds a region by key, hyphenated key, domain or pasted URL', () => {
    expect(findGenesysRegion('ap_southeast_2')?.domain).toBe('mypurecloud.com.au');
    expect(findGenesysRegion('AP-SOUTHEAST-2')?.domain).toBe('mypurecloud.com.au');
    expect(findGenesysRegion('mypurecloud.ie')?.key).toBe('eu_west_1');
    expect(findGenesysRegion('https://api.mypurecloud.ie/')?.key).toBe('eu_west_1');
    expect(findGenesysRegion('mypurecloud.example')).toBeUndefined();
  });
});

describe('resolveGenesysUrls', () => {
  it('derives api and login URLs from a domain', () => {
    expect(resolveGenesysUrls({ region: 'mypurecloud.com' })).toEqual({
      apiUrl: 'https://api.mypurecloud.com',
      loginUrl: 'https://login.mypurecloud.com',
    });
  });

  it('derives them from a region key', () => {
    expect(resolveGenesysUrls({ region: 'eu_central_2' })).toEqual({
      apiUrl: 'https://api.euc2.pure.cloud',
      loginUrl: 'https://login.euc2.pure.cloud',
    });
  });

  it('lets explicit URLs win over the region and trims trailing slashes', () => {
    expect(
      resolveGenesysUrls({
        region: 'mypurecloud.com',
        apiUrl: 'http://127.0.0.1:9000/',
        loginUrl: 'http://127.0.0.1:9001//',
      }),
    ).toEqual({ apiUrl: 'http://127.0.0.1:9000', loginUrl: 'http://127.0.0.1:9001' });
  });

  it('takes the other URL from the region when only one is explicit', () => {
    expect(resolveGenesysUrls({ region: 'mypurecloud.jp', apiUrl: 'https://proxy.example.com/genesys/' })).toEqual({
      apiUrl: 'https://proxy.example.com/genesys',
      loginUrl: 'https://login.mypurecloud.jp',
    });
  });

  it('derives login from an api.* URL without a region', () => {
    expect(resolveGenesysUrls({ apiUrl: 'https://api.inindca.com' })).toEqual({
      apiUrl: 'https://api.inindca.com',
      loginUrl: 'https://login.inindca.com',
    });
  });

  it('rejects an unknown region under genesys.region, listing the valid domains', () => {
    const issues = configIssues(() => resolveGenesysUrls({ region: 'mypurecloud.fr' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('genesys.region');
    expect(issues[0]?.message).toContain('mypurecloud.fr');
    for (const domain of Object.values(GENESYS_REGIONS)) expect(issues[0]?.message).toContain(domain);
  });

  it('requires a region or URLs', () => {
    const issues = configIssues(() => resolveGenesysUrls({}));
    expect(issues.map((issue) => issue.path)).toEqual(['genesys.region']);
    expect(configIssues(() => resolveGenesysUrls({ region: '  ' })).map((i) => i.path)).toEqual(['genesys.region']);
  });

  it('names the missing URL when one explicit URL cannot imply the other', () => {
    const issues = configIssues(() => resolveGenesysUrls({ apiUrl: 'http://127.0.0.1:9000' }));
    expect(issues.map((issue) => issue.path)).toEqual(['genesys.loginUrl']);
  });

  it('rejects malformed URLs under their own key', () => {
    const issues = configIssues(() => resolveGenesysUrls({ apiUrl: 'not a url', loginUrl: 'ftp://login.example' }));
    expect(issues.map((issue) => issue.path)).toEqual(['genesys.apiUrl', 'genesys.loginUrl']);
  });
});
