// Package rest reads HR records from a JSON HTTP API: any API through
// generic settings, and Workday, SAP SuccessFactors, BambooHR and Personio
// through presets that fill those settings in.
//
// # Settings
//
// The config file's source.rest map (source.type: rest):
//
//	source:
//	  type: rest
//	  rest:
//	    preset: workday            # workday | successfactors | bamboohr | personio; fills the settings below, which override it
//	    url: https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU_hrsync/hrsync_Workers
//	    method: GET                # GET | POST
//	    body: {fields: [id, name]} # POST only: a map or list (sent as JSON) or text (sent as is)
//	    headers:                   # sent with every data request; ${NAME} reads the environment variable NAME
//	      X-Api-Key: ${HR_API_KEY}
//	    query:                     # added to the url's own query (replacing parameters of the same name)
//	      format: json
//	    records: Report_Entry      # dotted path to the list of records in each response; empty: the body is the list
//	    fields:                    # column name: dotted path into each record; leave out for automatic columns
//	      WorkerID: Employee_ID
//	      ManagerID: Manager.ID
//	      Email: Email_Addresses.0.Email_Address
//	    paging:
//	      type: none               # none | next_link | link_header | page | offset | cursor
//	    auth:
//	      type: basic              # none | bearer | basic | oauth2
//	      username: ISU_hrsync
//	      password_env: WORKDAY_PASSWORD
//	    timeout: 60s               # per request, reading the answer included (workday preset: 10m)
//	    retries: 5                 # for 429, 500, 502, 503, 504 and requests without an answer
//	    max_pages: 10000           # a read that needs more pages fails
//	    max_body: 256MiB           # largest response body (KiB, MiB, GiB, KB, MB, GB or bytes); a larger one fails the read
//	    odata_dates: false         # /Date(1704067200000)/ -> 2024-01-01 (successfactors preset: true)
//
// Paging:
//
//	paging: {type: next_link, next: d.__next}          # the body holds the next page's URL (absolute or relative), e.g. @odata.nextLink
//	paging: {type: link_header}                        # the Link header's rel="next" (RFC 8288)
//	paging: {type: page, page_param: page, size_param: per_page, size: 100, first_page: 1, total: meta.total}
//	paging: {type: offset, offset_param: offset, limit_param: limit, size: 100, total: metadata.total_elements}
//	paging: {type: cursor, cursor: meta.next_cursor, cursor_param: cursor, size_param: limit, size: 100}
//
// page and offset stop at an empty page, or at a page shorter than size, or,
// when total (the body path of the number of records) is set, once that
// many records are read; with total, a total that changes while reading,
// or a count that does not match it, fails the read (workers added or
// removed meanwhile shift offset pages, which could skip someone). size
// must not exceed the API's largest page, or a capped page would look like
// the last. offset advances by the records received. cursor stops when the
// cursor is empty, null or absent. A next link to another server, a link
// or cursor back to a page already read, and a page identical to the one
// before (the API ignored the paging parameters) fail the read.
//
// Authentication; secrets come only from the environment (the *_env keys
// name variables) and never appear in errors, logs, String or Summary:
//
//	auth: {type: bearer, token_env: HR_TOKEN}
//	auth: {type: basic, username: isu@acme, password_env: HR_PASSWORD}      # or username_env
//	auth: {type: basic, api_key_env: BAMBOOHR_API_KEY}                      # API key as user name, password "x"
//	auth:
//	  type: oauth2                 # client credentials grant (RFC 6749 4.4)
//	  token_url: https://login.example.com/oauth2/token
//	  client_id: hrsync            # or client_id_env
//	  client_secret_env: HR_CLIENT_SECRET
//	  scope: api.read              # text or a list
//	  params: {resource: urn:...}  # extra form fields for the token request
//	  client_auth: basic           # basic: id and secret in the Authorization header; post: in the form
//
// An oauth2 token is cached until shortly before it expires (expires_in)
// and fetched again once when the API answers 401. Only https is allowed,
// or plain http to a loopback address; credentials and secret-named query
// parameters (api_key, token, ...) cannot be written in the config file.
//
// Unknown keys, values of the wrong type and missing or unset variables
// are errors naming the key, e.g.
// `source.rest.paging.type: unknown "pages"; use one of none, next_link, ...`.
//
// # Records and columns
//
// Every value is text: JSON strings as they are ("00123" stays "00123"),
// numbers exactly as the API wrote them (1234, never 1234.0 or 1.234e3;
// IDs beyond 2^53 stay exact; 1234.0 becomes 1234), booleans "true" and
// "false", null and absent values "" (no value, as an empty CSV cell).
//
// With fields, the columns are the fields' names, in order (a YAML map is
// read in name order: write a list of one-entry maps, [{WorkerID:
// Employee_ID}, {Name: Full_Name}], to choose the order). A path is keys
// and 0-based list indexes separated by dots, matched exactly and then
// without regard to case; a key may itself contain dots ("@odata.nextLink").
// Shapes that vary from record to record are absorbed, as Workday's do with
// cardinality:
//
//   - a key applied to a list applies to its first element: Managers.ID is
//     Managers.0.ID;
//   - index 0 applied to a single object or value is that value: Email.0 is
//     Email when the report gives one address as text and several as a list;
//   - a path ending at a list gives its first element ("" when empty);
//   - a path ending at a Workday reference object {"Descriptor": ...,
//     "ID": ...} gives its Descriptor: Manager is the manager's name,
//     Manager.ID the ID (for typed ID lists, [{"type": "Employee_ID",
//     "value": ...}], index them: Manager.ID.1.value);
//   - a path ending at any other object is an error naming its keys;
//   - a path through null, or past the end of a list, is "".
//
// A path whose key is missing from every record of the first page is an
// error naming the column, the key and the keys that are there (a typo must
// not read as empty values for everyone); missing from some records only,
// it is "" in those.
//
// Without fields, every scalar leaf of the first page's records becomes a
// column named by its dotted path (emails.0.address), in the order first
// met; OData's __metadata and __deferred are left out. A leaf first met
// after the first page is logged and ignored: list the columns in fields to
// pin them. Mappings refer to columns as [Name], paths included:
// [manager.userId].
//
// Provenance: File is the URL (without user information and secret
// parameters), Page the 1-based page and Index the 1-based position in it.
// Digest is sha256 over every response body, in order.
//
// A read is all or nothing: an HTTP error that retries did not cure, a
// body that is not JSON or not of the configured shape, a column missing
// from the first page, a body over max_body (refused before it is read
// when its Content-Length says so) or max_pages reached fails the whole
// read with a *source.Error naming the page, the URL, the HTTP status and
// what to do.
// An empty first page is an empty source.
//
// # Presets
//
// workday: a Workday custom report (Advanced, "Enable As Web Service") read
// through Report-as-a-Service: url is the report's JSON URL (Related
// Actions > Web Service > View URLs), query format=json, records
// Report_Entry, no paging, timeout 10m (RaaS builds the whole report before
// it answers), basic auth as an integration system user (username and
// password_env). The columns are the report fields' XML aliases:
// Employee_ID, Active (RaaS writes booleans as 1/0), First_Name, Last_Name,
// Business_Title, Supervisory_Organization, Hire_Date, Manager_ID (the
// manager's Employee_ID) and Country_Code (ISO 3166-1 alpha-2); name your
// aliases so, or point the columns at yours (fields: {Manager_ID:
// Manager.ID}). mappings/workday.yaml maps them.
//
// successfactors: SAP SuccessFactors OData v2, by default the User entity
// (url https://<api server>/odata/v2/User): query $format=json and $filter
// status in 't','f' (active and inactive users; without it User returns
// active ones only), $select and $expand derived from the columns unless
// set (manager.userId selects manager/userId and expands manager), records
// d.results, paging next_link d.__next, odata_dates. Columns userId,
// status, firstName, lastName, email, department, title, hireDate,
// managerId. Basic auth is user@companyId with password_env; SAP retires
// basic auth for its APIs (its date: 20 November 2026): use oauth2 with a
// token from SAP Cloud Identity Services (client credentials; token_url
// https://<tenant>.accounts.ondemand.com/oauth2/token, and params {resource:
// urn:sap:identity:application:provider:name:<dependency>} as SAP's
// SuccessFactors OIDC set-up describes). SuccessFactors' own /oauth/token
// (SAML bearer assertion) is not supported. mappings/successfactors.yaml.
//
// bamboohr: BambooHR's custom report (url
// https://api.bamboohr.com/api/gateway.php/<company>/v1/reports/custom):
// POST with query format=JSON and onlyCurrent=true, Content-Type exactly
// application/json, the body {"title": "hrsync", "fields": [...]} built from
// the columns' first path segments (so a column added in fields is asked
// for; a body you write is sent instead), records employees, no paging,
// auth api_key_env. Columns id, employeeNumber, status, firstName,
// lastName, preferredName, workEmail, jobTitle, department, division,
// location, hireDate (0000-00-00 when unset), supervisorEId (the
// supervisor's id). BambooHR omits fields it does not know or the key may
// not see, which the first-page check reports. mappings/bamboohr.yaml.
//
// personio: Personio's employee list, url
// https://api.personio.de/v1/company/employees, records data, offset paging
// (limit 100, total metadata.total_elements), oauth2 client credentials at
// https://api.personio.de/v2/auth/token with client_auth post (set
// client_id or client_id_env, and client_secret_env). Columns id, status,
// first_name, last_name, email, position, department, office, hire_date,
// supervisor_id and country (the public-holiday calendar's ISO code), from
// Personio's attributes.<name>.value shape. The API credential must be
// allowed to read these attributes. mappings/personio.yaml.
package rest
