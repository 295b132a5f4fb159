/**
 * The SQL transport seam: T-SQL text and typed parameters go in, rows come out.
 * The mssql-backed transport and the recording double used in tests both implement it,
 * so every statement the nodes send can be asserted on without a SQL Server.
 */

/** SQL Server parameter types the nodes send. Each parameter carries the type of the column it is compared with. */
export type SqlTypeName =
	| 'bit'
	| 'tinyint'
	| 'smallint'
	| 'int'
	| 'bigint'
	| 'decimal'
	| 'numeric'
	| 'money'
	| 'float'
	| 'real'
	| 'date'
	| 'time'
	| 'datetime'
	| 'datetime2'
	| 'smalldatetime'
	| 'datetimeoffset'
	| 'char'
	| 'varchar'
	| 'nchar'
	| 'nvarchar'
	| 'uniqueidentifier'
	| 'binary'
	| 'varbinary'
	| 'rowversion';

export interface SqlType {
	name: SqlTypeName;
	/** Characters or bytes; -1 means MAX. */
	length?: number;
	precision?: number;
	scale?: number;
}

export type SqlValue = string | number | boolean | bigint | Buffer | null;

export interface SqlParameter {
	name: string;
	type: SqlType;
	value: SqlValue;
}

export interface SqlRequest {
	text: string;
	parameters: SqlParameter[];
}

export type SqlRow = Record<string, unknown>;

export interface SqlResult {
	/** One array per result set, in the order the batch produced them. */
	recordsets: SqlRow[][];
	rowsAffected: number[];
}

export interface SqlTransport {
	/** Sends one batch: one round trip. Retries transient failures within its bound before it throws. */
	execute(request: SqlRequest): Promise<SqlResult>;
}

/** What the transport knows of a SQL Server error, independent of the driver. */
export interface SqlServerErrorInfo {
	/** SQL Server error number (e.g. 1205), when the server sent one. */
	number?: number;
	/** Driver error code for connection-level failures (e.g. ESOCKET, ETIMEOUT, ECONNRESET). */
	code?: string;
	/** Codes of the system errors beneath the driver's (e.g. ENOTFOUND, ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT). */
	causes?: readonly string[];
	message: string;
	/**
	 * Every error SQL Server sent for the request, in order, the last one included. The driver reports the last;
	 * a CRM trigger that refuses rows with RAISERROR and then ROLLBACK sends its own error first and 3609 last.
	 */
	errors?: Array<{ number?: number; message: string }>;
}
