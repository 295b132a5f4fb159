-- Representative Visma Contracting source tables. Run in ContractingTest (sqlcmd -d ContractingTest).
--
-- REPRESENTATIVE, NOT REQUIRED: a customer's Contracting database has more tables and columns, under names of
-- its own. Every table and column is chosen in the node editor; nothing in the nodes is hard-coded to these.
-- They carry each kind of change marker the Contracting node can read:
--   dbo.Customers.ChangedAt                        datetime2(7), 100 ns
--   dbo.Customers.LastChangeDate + LastChangeTime  legacy int pair yyyymmdd + hhmmss (the "Last change date/time")
--   dbo.Customers.RowVer, dbo.Orders.RowVer        rowversion
--   dbo.Orders.ChangedAt                           legacy datetime, rounded to 1/300 s
--   dbo.Orders                                     Change Tracking (the database has it on, see 00-databases.sql)
-- Safe to run again: it drops the tables first.

IF OBJECT_ID(N'dbo.Orders', N'U') IS NOT NULL DROP TABLE dbo.Orders;
IF OBJECT_ID(N'dbo.Customers', N'U') IS NOT NULL DROP TABLE dbo.Customers;
GO

CREATE TABLE dbo.Customers (
    CustomerNo     int            NOT NULL CONSTRAINT PK_Customers PRIMARY KEY,
    Name           nvarchar(100)  NOT NULL,
    OrgNo          varchar(20)    NULL,
    Address        nvarchar(200)  NULL,
    PostCode       varchar(10)    NULL,
    City           nvarchar(100)  NULL,
    Email          nvarchar(200)  NULL,
    Phone          varchar(30)    NULL,
    Active         bit            NOT NULL,
    ChangedAt      datetime2(7)   NULL,
    LastChangeDate int            NULL,
    LastChangeTime int            NULL,
    RowVer         rowversion     NOT NULL
);
CREATE INDEX IX_Customers_ChangedAt ON dbo.Customers (ChangedAt, CustomerNo);
CREATE INDEX IX_Customers_LastChange ON dbo.Customers (LastChangeDate, LastChangeTime, CustomerNo);
CREATE INDEX IX_Customers_RowVer ON dbo.Customers (RowVer);
GO

CREATE TABLE dbo.Orders (
    OrderNo     int            NOT NULL CONSTRAINT PK_Orders PRIMARY KEY,
    CustomerNo  int            NOT NULL,
    Description nvarchar(200)  NULL,
    OrderDate   date           NULL,
    Status      varchar(20)    NULL,
    Amount      decimal(18,2)  NULL,
    ChangedAt   datetime       NULL,
    RowVer      rowversion     NOT NULL
);
CREATE INDEX IX_Orders_ChangedAt ON dbo.Orders (ChangedAt, OrderNo);
CREATE INDEX IX_Orders_RowVer ON dbo.Orders (RowVer);
ALTER TABLE dbo.Orders ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = OFF);
GO
