/**
 * What kind of uplink an interface is, from its sysfs facts alone (pure).
 *
 * The order matters: a wwan DEVTYPE or a modem driver wins over the ARP type
 * (a QMI modem in raw-IP mode reports ARPHRD_NONE, a HiLink stick ARPHRD_ETHER);
 * cfg80211 devices are wifi whatever their driver; an interface with no parent
 * device is virtual (veth, bridge, tun, wireguard), except PPP, which on this
 * box is a modem's dial-up link.
 */
import type { InterfaceKind, SysfsFacts } from './types.js';

/** ARPHRD_* (include/uapi/linux/if_arp.h). */
export const ARPHRD = { ETHER: 1, PPP: 512, LOOPBACK: 772, NONE: 65534 } as const;

/**
 * Drivers of modems and tethered phones: QMI and MBIM modems, the CDC
 * ethernet/NCM modes of HiLink sticks and 5G routers, Android (RNDIS) and
 * iPhone (ipheth) tethering, PCIe modems (mhi_net), and the serial `option`
 * driver of older 3G sticks.
 */
export const CELLULAR_DRIVERS: ReadonlySet<string> = new Set([
  'qmi_wwan',
  'qmi_wwan_q',
  'cdc_ether',
  'cdc_ncm',
  'cdc_mbim',
  'huawei_cdc_ncm',
  'rndis_host',
  'ipheth',
  'option',
  'sierra_net',
  'mhi_net',
]);

/** DEVTYPEs of software interfaces that may still carry a parent device (a VLAN on a NIC). */
const VIRTUAL_DEVTYPES: ReadonlySet<string> = new Set(['bridge', 'bond', 'vlan', 'macvlan', 'vxlan', 'wireguard', 'team']);

export function classifyInterface(name: string, f: SysfsFacts): InterfaceKind {
  if (name === 'lo' || f.arpType === ARPHRD.LOOPBACK) return 'virtual';
  if (f.devType !== undefined && VIRTUAL_DEVTYPES.has(f.devType)) return 'virtual';
  if (f.devType === 'wlan' || f.wireless) return 'wifi';
  if (f.devType === 'wwan') return 'cellular';
  if (f.driver !== undefined && CELLULAR_DRIVERS.has(f.driver)) return 'cellular';
  if (f.arpType === ARPHRD.PPP) return 'cellular';
  if (!f.hasDevice) return 'virtual';
  if (f.arpType === ARPHRD.ETHER || f.arpType === undefined) return 'ethernet';
  return 'other';
}
