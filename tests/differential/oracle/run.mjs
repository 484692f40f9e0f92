// Test-only adapter around the independent simulator @cloud-copilot/iam-simulate.
//
// The simulator is AGPL-3.0: it runs only here, as a separate process started by the
// differential test and the benchmark; policyeval never imports or ships it.
//
// Protocol: one case a line on stdin, in policyeval's batch format
// (id, principal, action, resource, resourceAccount, context, identityPolicies,
// permissionBoundaries, scps, rcps, resourcePolicy, sessionPolicy); one JSON line a case
// on stdout, in the same order: {id, decision: "Allow"|"ImplicitDeny"|"ExplicitDeny"|null,
// error?, blockedBy?, ignoredContextKeys?}. A case that fails never stops the stream.

import { createInterface } from 'node:readline';
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate';

const DECISION = {
  Allowed: 'Allow',
  ImplicitlyDenied: 'ImplicitDeny',
  ExplicitlyDenied: 'ExplicitDeny',
};

function parsePolicy(policy) {
  return typeof policy === 'string' ? JSON.parse(policy) : policy;
}

function accountOf(arn) {
  if (typeof arn !== 'string') return undefined;
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return parts[4] || undefined;
}

// A flat list is one organisation level; a list of lists is the hierarchy, root first.
function orgLevels(policies, prefix) {
  if (!Array.isArray(policies) || policies.length === 0) return [];
  const nested = policies.every((item) => Array.isArray(item));
  const levels = nested ? policies : [policies];
  return levels.map((level, i) => ({
    orgIdentifier: `${prefix}-level-${i}`,
    policies: level.map((policy, j) => ({ name: `${prefix}-${i}-${j}`, policy: parsePolicy(policy) })),
  }));
}

function contextValue(value) {
  if (Array.isArray(value)) return value.map((item) => String(item));
  return String(value);
}

function toSimulation(c) {
  const principal = c.principal === 'anonymous' ? anonymousPrincipal : c.principal;
  const resourceAccount =
    c.resourceAccount ?? accountOf(c.resource) ?? accountOf(c.principal) ?? '000000000000';
  const context = {};
  for (const [key, value] of Object.entries(c.context ?? {})) context[key] = contextValue(value);
  const simulation = {
    request: {
      principal,
      action: c.action,
      resource: { resource: c.resource, accountId: resourceAccount },
      contextVariables: context,
    },
    identityPolicies: (c.identityPolicies ?? []).map((policy, i) => ({
      name: `identity-${i}`,
      policy: parsePolicy(policy),
    })),
    serviceControlPolicies: orgLevels(c.scps, 'scp'),
    resourceControlPolicies: orgLevels(c.rcps, 'rcp'),
  };
  const boundaries = c.permissionBoundaries ?? [];
  if (boundaries.length > 0) {
    simulation.permissionBoundaryPolicies = boundaries.map((policy, i) => ({
      name: `boundary-${i}`,
      policy: parsePolicy(policy),
    }));
  }
  if (c.resourcePolicy != null) simulation.resourcePolicy = parsePolicy(c.resourcePolicy);
  if (c.sessionPolicy != null) simulation.sessionPolicy = parsePolicy(c.sessionPolicy);
  return simulation;
}

async function decide(line) {
  let c;
  try {
    c = JSON.parse(line);
  } catch (err) {
    return { id: null, decision: null, error: `bad json: ${err.message}` };
  }
  const id = c.id ?? null;
  try {
    const result = await runSimulation(toSimulation(c), { simulationMode: 'Strict' });
    if (result.resultType === 'error') {
      return { id, decision: null, error: JSON.stringify(result.errors) };
    }
    const out = { id, decision: DECISION[result.overallResult] ?? null };
    if (out.decision === null) out.error = `unexpected result ${result.overallResult}`;
    if (result.resultType === 'single') {
      const blockedBy = result.result.analysis.blockedBy;
      if (blockedBy && blockedBy.length > 0) out.blockedBy = blockedBy;
      const ignored = result.result.ignoredContextKeys;
      if (ignored && ignored.length > 0) out.ignoredContextKeys = ignored;
    } else {
      out.wildcard = true;
    }
    return out;
  } catch (err) {
    return { id, decision: null, error: `simulator failed: ${err && err.message}` };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === '') continue;
  process.stdout.write(JSON.stringify(await decide(line)) + '\n');
}
