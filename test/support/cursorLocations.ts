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
