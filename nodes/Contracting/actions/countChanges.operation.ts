import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { countChanges } from '../helpers/countChanges';
import type { ChangeSource } from '../stores/changeSource';
import * as readChanges from './readChanges.operation';

/** The parameters that decide which rows a read sends; how it outputs them (columns, batches) does not change the count. */
export const SOURCE_PARAMETERS = new Set([
	'streamPreset',
	'streamName',
	'table',
	'keyColumns',
	'markerKind',
	'markerColumn',
	'dateColumn',
	'timeColumn',
	'timeEncoding',
	'rowversionColumn',
	'filters',
	'watermarkNotice',
]);
/** Within the Options and Advanced collections. */
export const SOURCE_OPTIONS = new Set(['nullMarkers', 'lagSeconds', 'timeZone', 'since']);

/** Read Changes' own source parameters, shown for this operation: one description, so the two never drift apart. */
function sourceParameters(): INodeProperties[] {
	return readChanges.description.flatMap((property): INodeProperties[] => {
		if (SOURCE_PARAMETERS.has(property.name)) return [property];
		if (property.type !== 'collection') return [];
		const options = (property.options as INodeProperties[]).filter((option) => SOURCE_OPTIONS.has(option.name));
		return [{ ...property, options }];
	});
}

export const description: INodeProperties[] = updateDisplayOptions({ show: { operation: ['countChanges'] } }, sourceParameters());

/**
 * One item per input item: how many rows Read Changes would send from that item's watermark now, and the
 * bound it counted up to. One COUNT statement per item, whatever the number of rows.
 */
export async function execute(this: IExecuteFunctions, source: ChangeSource): Promise<INodeExecutionData[]> {
	return await readChanges.forEachSourceItem(this, 'counting the changes in', async (spec, itemIndex) => [
		{ ...(await countChanges(source, spec, readChanges.handoverOf(this, itemIndex).since)) } as IDataObject,
	]);
}
