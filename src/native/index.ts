export { addonPath, loadNative, type NativeAddon, NativeUnavailableError, nativeAvailable } from './binding.js';
