import type { CursorLocation } from '../../nodes/shared/core/watermarkLocation';

/** Contracting's legacy place for the CRM link's position: the date + time pair of the SystemCodes row "CRM". */
export const SYSTEM_CODES_PAIR: Extract<CursorLocation, { kind: 'dateAndTimeColumns' }> = {
	kind: 'dateAndTimeColumns',
	table: { schema: 'dbo', name: 'SystemCodes' },
	filterColumn: 'Code',
	filterValue: 'CRM',
	dateColumn: 'LastChangeDate',
	timeColumn: 'LastChangeTime',
};

/**
 * The Get watermark parameters, as a partner sets them in the editor, that keep a stream's position in `pair`:
 * the columns as plain names (version 1) or typed by name into their pickers (from version 1.1).
 */
export function getParametersKeepingCursorIn(pair: Extract<CursorLocation, { kind: 'dateAndTimeColumns' }>, typeVersion = 1): Record<string, unknown> {
	const column = (name: string) => (typeVersion === 1 ? name : { __rl: true, mode: 'name', value: name });
	return {
		storeCursorIn: 'existingTable',
		cursorTable: { __rl: true, mode: 'name', value: `${pair.table.schema}.${pair.table.name}` },
		rowFilterColumn: column(pair.filterColumn),
		rowFilterValue: pair.filterValue,
		cursorColumns: 'dateAndTimeColumns',
		dateColumn: column(pair.dateColumn),
		timeColumn: column(pair.timeColumn),
	};
}
