export { sqlServerConnectionTest } from '../../shared/methods/credentialTest';
export * as listSearch from './listSearch';
export * as loadOptions from './loadOptions';
export * as resourceMapping from './resourceMapping';
