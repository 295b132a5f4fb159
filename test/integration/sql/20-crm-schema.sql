-- Representative Visma CRM target tables. Run in CrmTest and in CrmLegacyTest (sqlcmd -d <database>).
--
-- REPRESENTATIVE, NOT REQUIRED: a customer's CRM database has more tables and columns, under names of its own.
-- Every table and column is chosen in the node editor; nothing in the nodes is hard-coded to these.
--   dbo.Company     matched on its natural key CustomerNo (unique), its own identity CompanyId
--   dbo.SalesOrder  matched on OrderNo (unique); CompanyId is looked up from dbo.Company by CustomerNo
-- Deleted source rows are kept and marked (IsActive = 0, DeletedAt). Nothing here needs more than compatibility
-- level 100, so the same script serves the level 120 database.
-- Safe to run again: it drops the tables first.

IF OBJECT_ID(N'dbo.Contact', N'U') IS NOT NULL DROP TABLE dbo.Contact;
IF OBJECT_ID(N'dbo.SalesOrder', N'U') IS NOT NULL DROP TABLE dbo.SalesOrder;
IF OBJECT_ID(N'dbo.Company', N'U') IS NOT NULL DROP TABLE dbo.Company;
GO

CREATE TABLE dbo.Company (
    CompanyId   int            IDENTITY(1,1) NOT NULL CONSTRAINT PK_Company PRIMARY KEY,
    CustomerNo  int            NOT NULL CONSTRAINT UQ_Company_CustomerNo UNIQUE,
    Name        nvarchar(100)  NOT NULL,
    OrgNo       varchar(20)    NULL,
    Address     nvarchar(200)  NULL,
    PostCode    varchar(10)    NULL,
    City        nvarchar(100)  NULL,
    Email       nvarchar(200)  NULL,
    Phone       varchar(30)    NULL,
    IsActive    bit            NOT NULL CONSTRAINT DF_Company_IsActive DEFAULT 1,
    DeletedAt   datetime2(3)   NULL
);
GO

-- CRM triggers that refuse rows, as customers' CRM databases have them: one raises and rolls back (SQL Server then
-- ends the batch with 3609 after the trigger's error), one only raises (the batch would commit while the driver
-- reports the error). The CRM node must report both as refused rows and keep nothing of the refused statement.
CREATE TRIGGER dbo.TR_Company_RefuseRows ON dbo.Company AFTER INSERT, UPDATE AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (SELECT 1 FROM inserted WHERE Name LIKE N'BLOCKED%')
    BEGIN
        RAISERROR(N'Customer is blocked in CRM', 16, 1);
        ROLLBACK TRANSACTION;
        RETURN;
    END;
    IF EXISTS (SELECT 1 FROM inserted WHERE City = N'Nowhere')
        RAISERROR(N'City Nowhere is not allowed in CRM', 16, 1);
END;
GO

CREATE TABLE dbo.SalesOrder (
    SalesOrderId int            IDENTITY(1,1) NOT NULL CONSTRAINT PK_SalesOrder PRIMARY KEY,
    OrderNo      int            NOT NULL CONSTRAINT UQ_SalesOrder_OrderNo UNIQUE,
    CompanyId    int            NOT NULL CONSTRAINT FK_SalesOrder_Company REFERENCES dbo.Company (CompanyId),
    Description  nvarchar(200)  NULL,
    OrderDate    date           NULL,
    Status       varchar(20)    NULL,
    Amount       decimal(18,2)  NULL,
    IsActive     bit            NOT NULL CONSTRAINT DF_SalesOrder_IsActive DEFAULT 1,
    DeletedAt    datetime2(3)   NULL
);
CREATE INDEX IX_SalesOrder_CompanyId ON dbo.SalesOrder (CompanyId);
GO

-- A table as older CRM databases have some: a natural key in a collation other than the database's (case-sensitive),
-- a varchar column of another code page (Cyrillic, 1251), and legacy text / ntext columns.
CREATE TABLE dbo.Contact (
    ContactId   int            IDENTITY(1,1) NOT NULL CONSTRAINT PK_Contact PRIMARY KEY,
    ContactCode varchar(20)    COLLATE Danish_Norwegian_CS_AS NOT NULL CONSTRAINT UQ_Contact_ContactCode UNIQUE,
    Title       varchar(50)    COLLATE Cyrillic_General_CI_AS NULL,
    Notes       text           NULL,
    Memo        ntext          NULL
);
GO
