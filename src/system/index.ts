/** The appliance's own system settings: the firewall's LAN chain and SSH, from the config (README: "The firewall", "SSH"). */
export { IMAGE_MARKER, isApplianceImage } from './appliance.js';
export { type ApplyDeps, applySystem, type SystemApplied } from './apply.js';
export { type CommandResult, type CommandRunner, runCommand } from './command.js';
export { SystemError, type SystemErrorCode } from './errors.js';
export { FIREWALL_TABLE, type FirewallConfig, LAN_CHAIN, lanChainScript, lanPorts, SSH_PORT } from './firewall.js';
export { awaitSystemApplied, type FollowDeps, SYSTEM_APPLY_WAIT_MS } from './follow.js';
export { AUTHORIZED_KEYS, SSH_UNIT, setSshRunning, sshRunning, writeAuthorizedKeys } from './ssh.js';
