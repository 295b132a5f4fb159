import type { IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

/** The choice that follows the workflow: its settings' time zone, or n8n's default (GENERIC_TIMEZONE). */
export const WORKFLOW_TIME_ZONE = 'workflow';

/** Every IANA zone this Node.js knows, so a misspelt zone cannot be chosen; an expression can still give any name. */
function timeZoneOptions(): INodePropertyOptions[] {
	const zones = new Set(Intl.supportedValuesOf('timeZone'));
	zones.add('UTC');
	return [
		{ name: "The Workflow's Time Zone", value: WORKFLOW_TIME_ZONE, description: "As set in the workflow's settings, else n8n's default time zone" },
		...[...zones].sort().map((zone) => ({ name: zone, value: zone })),
	];
}

/** A "Time Zone" dropdown of IANA zones, defaulting to the workflow's time zone. */
export function timeZoneProperty(description: string, extra: Partial<INodeProperties> = {}): INodeProperties {
	return { displayName: 'Time Zone', name: 'timeZone', type: 'options', options: timeZoneOptions(), default: WORKFLOW_TIME_ZONE, description, ...extra };
}

/** The zone name a Time Zone parameter stands for: the workflow's own when it is left at (or empty for) that choice. */
export function chosenTimeZone(context: IExecuteFunctions, chosen: unknown): string {
	const name = String(chosen ?? '').trim();
	return name === '' || name === WORKFLOW_TIME_ZONE ? context.getTimezone() : name;
}
