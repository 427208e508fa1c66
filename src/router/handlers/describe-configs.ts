/** DescribeConfigs: topic configs (override / broker / default) and the broker's own settings. */
import { SETTINGS, type SettingKey } from '../../config.ts';
import type {
  ConfigEntry,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
} from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { toWireError, wireError } from '../wire-error.ts';

export type DescribeConfigsBody = Omit<DescribeConfigsRequest, 'op'>;

function brokerConfigs(ctx: BrokerContext, keys?: string[]): ConfigEntry[] {
  const wanted = (keys && keys.length > 0 ? keys : Object.keys(SETTINGS)).filter((k): k is SettingKey =>
    Object.hasOwn(SETTINGS, k),
  );
  return wanted.map((key) => {
    const source = ctx.configSources[key];
    return {
      name: key,
      value: String(ctx.config[key]),
      source: source === 'default' ? 'DEFAULT' : 'BROKER',
      isDefault: source === 'default',
      readOnly: true,
      sensitive: false,
    };
  });
}

export function describeConfigs(ctx: BrokerContext, req: DescribeConfigsBody): DescribeConfigsResponse {
  return {
    resources: req.resources.map((r) => {
      try {
        if (r.type === 'broker') {
          if (r.name !== '' && r.name !== String(ctx.nodeId)) {
            return {
              ...r,
              error: wireError('INVALID_REQUEST', `this broker is node ${ctx.nodeId}`),
              configs: [],
            };
          }
          return { type: r.type, name: r.name, configs: brokerConfigs(ctx, r.keys) };
        }
        return { type: r.type, name: r.name, configs: ctx.topics.describeConfigs(r.name, r.keys) };
      } catch (err) {
        return { type: r.type, name: r.name, error: toWireError(err), configs: [] };
      }
    }),
  };
}
