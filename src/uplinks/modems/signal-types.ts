/** What the signal parsers read (signal.ts and one parser per dialect share these). */
import type { SignalParserName } from './profiles.js';

/** What the modem is on now: NR5G-NSA is LTE with an NR leg (EN-DC), NR5G-SA is 5G core. */
export type RadioTech = 'GSM' | 'WCDMA' | 'LTE' | 'NR5G-NSA' | 'NR5G-SA' | 'none' | 'unknown';

export interface CellSignal {
  rat: 'GSM' | 'WCDMA' | 'LTE' | 'NR5G';
  rsrpDbm?: number;
  rsrqDb?: number;
  sinrDb?: number;
  rssiDbm?: number;
  /** WCDMA received signal code power and Ec/Io. */
  rscpDbm?: number;
  ecioDb?: number;
  /** `B3`, `n78`. */
  band?: string;
  /** Cell id as the modem gives it (hex). */
  cellId?: string;
  /** Physical cell id. */
  pci?: number;
  /** EARFCN / NR-ARFCN / UARFCN. */
  channel?: number;
  /** Tracking/location area code (hex). */
  areaCode?: string;
  mcc?: string;
  mnc?: string;
}

export interface ExtendedSignal {
  parser: SignalParserName;
  tech: RadioTech;
  /** The serving cell; for NR5G-NSA the LTE anchor first, then the NR leg. */
  cells: CellSignal[];
  /** The modem's own word for its state (Quectel: NOCONN, CONNECT, SEARCH, LIMSRV). */
  state?: string;
}
