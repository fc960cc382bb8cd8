/** The plain data of the uplink interfaces: what discovery finds, what selection keeps. */

/**
 * What an interface is, from sysfs: `virtual` covers loopback, veth, bridges,
 * tunnels and the like (excluded unless named); `other` a physical device of a
 * kind an uplink is not (CAN, InfiniBand…).
 */
export type InterfaceKind = 'ethernet' | 'wifi' | 'cellular' | 'virtual' | 'other';

export const INTERFACE_KINDS: readonly InterfaceKind[] = ['ethernet', 'wifi', 'cellular', 'virtual', 'other'];

/** The kinds used when `interfaces` is not given. */
export const DEFAULT_UPLINK_KINDS: readonly InterfaceKind[] = ['ethernet', 'wifi', 'cellular'];

/** RFC 2863 operational state, as the kernel reports it in `operstate`. */
export type OperState = 'up' | 'down' | 'dormant' | 'lowerlayerdown' | 'notpresent' | 'testing' | 'unknown';

export interface InterfaceAddress {
  family: 4 | 6;
  address: string;
  prefixLength: number;
  /** The far end of a point-to-point address (ppp, some modems). */
  peer?: string;
  /** `global`, `link`, `host`… */
  scope: string;
  /** A secondary address on the same subnet (not the one the kernel picks first). */
  secondary: boolean;
}

/** What sysfs says about one interface (every field optional: a driver may not provide it). */
export interface SysfsFacts {
  /** ARPHRD_* from `type` (1 ethernet, 512 ppp, 772 loopback, 65534 none). */
  arpType?: number;
  /** DEVTYPE from `uevent` (`wlan`, `wwan`, `bridge`, `vlan`…). */
  devType?: string;
  /** Name of the driver bound to the parent device (`device/driver` symlink): `qmi_wwan`, `r8169`. */
  driver?: string;
  /** Bus of the parent device (`device/subsystem` symlink): `usb`, `pci`, `sdio`, `platform`. */
  bus?: string;
  /** Whether there is a parent device at all (virtual interfaces have none). */
  hasDevice: boolean;
  /** A `wireless/` or `phy80211` entry (cfg80211 devices). */
  wireless: boolean;
  operstate?: OperState;
  /** `carrier`; undefined when the interface is administratively down (the kernel refuses to read it). */
  carrier?: boolean;
  /** IFF_UP from `flags`. */
  adminUp?: boolean;
}

export interface DiscoveredInterface {
  name: string;
  index: number;
  kind: InterfaceKind;
  driver?: string;
  bus?: string;
  operstate: OperState;
  carrier?: boolean;
  adminUp: boolean;
  /** Administratively up and the link is working (operstate up, or unknown with carrier, as point-to-point drivers report). */
  up: boolean;
  /** IPv4 first, then IPv6, each in the kernel's order. */
  addresses: InterfaceAddress[];
  /** The IPv4 default gateway of this interface in the main table (lowest metric), if it has one. */
  gateway?: string;
}

/** An interface usable as an uplink: selected, up, with an IPv4 address. */
export interface Uplink {
  name: string;
  kind: InterfaceKind;
  driver?: string;
  /** The IPv4 address bonded links bind to and source rules match. */
  address: string;
  prefixLength: number;
  /** The connected subnet in CIDR (`10.0.1.0/30`), absent for a /32 address. */
  subnet?: string;
  /** The IPv4 default gateway; absent on a point-to-point or directly connected uplink. */
  gateway?: string;
  operstate: OperState;
}
