export { sqlServerConnectionTest } from '../../shared/methods/credentialTest';
