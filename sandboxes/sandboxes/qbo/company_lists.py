"""Static shapes of a small US company: chart of accounts, terms, names to draw from."""

from __future__ import annotations

# key, Name, AccountType, AccountSubType, Classification, AcctNum
CHART = (
    ("checking", "Checking", "Bank", "Checking", "Asset", "1000"),
    ("savings", "Savings", "Bank", "Savings", "Asset", "1010"),
    ("undeposited", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset", "1200"),
    ("inventory", "Inventory Asset", "Other Current Asset", "Inventory", "Asset", "1300"),
    ("ar", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset", "1100"),
    ("truck", "Truck", "Fixed Asset", "Vehicles", "Asset", "1500"),
    ("ap", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "Liability", "2000"),
    ("cc", "Mastercard", "Credit Card", "CreditCard", "Liability", "2100"),
    ("payroll", "Payroll Liabilities", "Other Current Liability", "PayrollTaxPayable", "Liability", "2200"),
    ("loan", "Notes Payable", "Long Term Liability", "NotesPayable", "Liability", "2700"),
    ("obe", "Opening Balance Equity", "Equity", "OpeningBalanceEquity", "Equity", "3000"),
    ("retained", "Retained Earnings", "Equity", "RetainedEarnings", "Equity", "3100"),
    ("sales", "Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue", "4000"),
    ("services", "Services", "Income", "ServiceFeeIncome", "Revenue", "4100"),
    ("cogs", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense", "5000"),
    ("advertising", "Advertising", "Expense", "AdvertisingPromotional", "Expense", "6000"),
    ("rent", "Rent or Lease", "Expense", "RentOrLeaseOfBuildings", "Expense", "6100"),
    ("utilities", "Utilities", "Expense", "Utilities", "Expense", "6200"),
    ("office", "Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses", "Expense", "6300"),
    ("insurance", "Insurance", "Expense", "Insurance", "Expense", "6400"),
    ("legal", "Legal & Professional Fees", "Expense", "LegalProfessionalFees", "Expense", "6500"),
    ("travel", "Travel", "Expense", "Travel", "Expense", "6600"),
    ("meals", "Meals and Entertainment", "Expense", "EntertainmentMeals", "Expense", "6700"),
    ("repairs", "Maintenance and Repair", "Expense", "RepairMaintenance", "Expense", "6800"),
    ("interest", "Interest Earned", "Other Income", "InterestEarned", "Revenue", "7000"),
    ("misc", "Miscellaneous", "Other Expense", "OtherMiscellaneousExpense", "Expense", "8000"),
    ("old_marketing", "Old Marketing", "Expense", "AdvertisingPromotional", "Expense", "6050"),
)
INACTIVE_ACCOUNTS = frozenset({"old_marketing"})
EXPENSE_KEYS = ("advertising", "rent", "utilities", "office", "insurance", "legal", "travel", "meals", "repairs")

FOREIGN_CURRENCIES = (("CAD", "Canadian Dollar", "0.7300"), ("EUR", "Euro", "1.0800"), ("GBP", "British Pound Sterling", "1.2700"))

TERMS = (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60))
PAYMENT_METHODS = (("Cash", "NON_CREDIT_CARD"), ("Check", "NON_CREDIT_CARD"), ("Visa", "CREDIT_CARD"), ("MasterCard", "CREDIT_CARD"), ("American Express", "CREDIT_CARD"))
CLASSES = ("Retail", "Wholesale", "Online", "Services", "Events", "Legacy")
DEPARTMENTS = ("North", "South", "East", "West")
CUSTOMER_TYPES = ("Commercial", "Residential", "Government")

FIRST_NAMES = ("Amy", "Bill", "Cathy", "Dylan", "Emma", "Frank", "Grace", "Hector", "Iris", "Jamal", "Kenji", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe")
LAST_NAMES = ("Anders", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Khan", "Lopez", "Moreau", "Nguyen", "Okafor", "Patel", "Quist", "Rossi", "Singh", "Tanaka", "Ueda", "Vargas", "Weber", "Xu", "Young", "Zimmer")
COMPANY_WORDS = ("Acme", "Bluebird", "Cedar", "Delta", "Evergreen", "Falcon", "Granite", "Harbor", "Indigo", "Juniper", "Keystone", "Lakeside", "Maple", "Northwind", "Orchard", "Pinnacle", "Quarry", "Redwood", "Summit", "Tidewater", "Union", "Valley", "Willow", "Yellowstone", "Zenith")
COMPANY_SUFFIXES = ("Landscaping", "Builders", "Cafe", "Dental", "Design", "Electric", "Farms", "Garage", "Hardware", "Imports", "Supply", "Traders", "Plumbing", "Studio", "Consulting")
CITIES = (("Mountain View", "CA", "94043"), ("Bayshore", "CA", "94326"), ("Portland", "OR", "97201"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"), ("Boise", "ID", "83702"))
STREETS = ("Main St", "Oak Ave", "Pine Rd", "Market St", "Elm St", "Cedar Ln", "Lake Dr")

SERVICE_ITEMS = ("Design", "Installation", "Consulting", "Maintenance", "Hours", "Gardening", "Lighting", "Pest Control", "Trimming", "Concrete")
PRODUCT_ITEMS = ("Rock Fountain", "Pump", "Sprinkler Heads", "Pavers", "Garden Hose", "Bench", "Lamp", "Soil Bag", "Seed Pack", "Planter")
