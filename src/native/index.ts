export {
  addonPath,
  loadNative,
  loadSrtNative,
  type NativeAddon,
  NativeUnavailableError,
  nativeAvailable,
  type SrtAddon,
} from './binding.js';
