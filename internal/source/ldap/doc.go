// Package ldap reads people from an LDAP directory (OpenLDAP, 389
// Directory Server, Active Directory) as HR records: one record per entry
// below a base DN that matches a filter, its fields the attributes listed.
//
// # Settings
//
// The config file's source.ldap map (source.type: ldap):
//
//	source:
//	  type: ldap
//	  ldap:
//	    preset: inetorgperson            # inetorgperson | active_directory: filter, attributes, references; keys below override
//	    url: ldaps://ldap.example.org:636 # or ldap://host:389 with StartTLS
//	    start_tls: true                  # ldap:// only; false (no TLS) only to 127.0.0.1, ::1 or localhost
//	    ca_file: ldap-ca.pem             # PEM CA(s) of the server's certificate; default the system's roots
//	    bind_dn: cn=hrsync,ou=services,dc=example,dc=org   # or user@domain (AD); absent: anonymous bind
//	    password_env: HRSYNC_SOURCE_PASSWORD              # the default; or password_file: secret.txt
//	    base_dn: ou=people,dc=example,dc=org
//	    filter: (&(objectClass=inetOrgPerson)(employeeNumber=*))
//	    attributes: [uid, givenName, sn, mail, employeeNumber, departmentNumber, title, manager, employeeType]
//	    references: {manager: employeeNumber}   # a DN-valued attribute -> that attribute of the entry it names
//	    page_size: 500                   # paged results (RFC 2696)
//	    timeout: 60s                     # per request
//
// Relative paths resolve against the config file's folder. The bind
// password never comes from the config file; it is never logged or shown.
// Errors name the config file, line and key.
//
// # Reading
//
// One subtree search with the paged results control (marked critical, so
// a server that cannot page refuses rather than answer in part), asking
// only for the attributes listed and the key attributes references need.
// A read is all or nothing: a size or time limit (OpenLDAP's default
// size limit, 500 entries, bounds a paged search as a whole for every
// account but the rootdn), an administrative limit, a paging error, a
// referral or continuation reference (none is followed), an attribute
// sent in parts that cannot be read to the end, or any connection, TLS or
// bind failure fails the whole read before a record is emitted, with the
// URL and base and what to do: the people missing from a partial read
// would otherwise become leavers.
//
// Records are emitted in the order the directory sent the entries, once
// all are read and the references resolved (the Progress hook counts
// entries as they come). Provenance: File is the URL and base
// (ldaps://host:636/ou=people,dc=example,dc=org), DN the entry's DN. The
// Summary's Digest is sha256 over every entry (DN, attribute names and
// values) independent of the order the directory sent them in; its Header
// is the attributes as configured.
//
// # Values
//
// Fields are named by attribute, as configured ("dn" is the entry's DN).
// An attribute with one value is a string; with several, a list
// (identity.Record.Lists) that expressions use with Join, Item, Count and
// RemoveDuplicates, and that reads as the values joined with "," where a
// string is wanted. Values come as the directory stores them, as text:
// generalized time (20260101120000Z) as is, which CDate and
// FormatDateTime(x, , "yyyyMMddHHmmssZ", ...) read; objectGUID and other
// GUIDs as 3f2504e0-4f89-11d3-9a0c-0305e82c3301; objectSid as
// S-1-5-21-...; other binary values (jpegPhoto, certificates, anything
// that is not UTF-8 text) as base64. An attribute Active Directory sends
// in parts (member;range=0-1499) is read to the end. Password attributes
// (userPassword, unicodePwd ...) cannot be listed.
//
// # References
//
// references: {manager: employeeNumber} replaces each DN in manager by
// the employeeNumber of the entry it names, found among the entries read
// (DNs compare without regard to case or spacing). A DN outside the
// entries read, or naming an entry without exactly one employeeNumber,
// gives no value and a warning (Summary.Warnings, codes
// reference_outside_source and reference_without_key) that plans show:
// never a wrong manager. Multi-valued references (member, seeAlso) give
// the list of keys found.
//
// # Presets
//
// inetorgperson (OpenLDAP, 389 DS): filter
// (&(objectClass=inetOrgPerson)(employeeNumber=*)); attributes uid, cn,
// givenName, sn, mail, employeeNumber, departmentNumber, title, manager,
// employeeType; references {manager: employeeNumber}.
// mappings/ldap-inetorgperson.yaml maps them to Entra ID.
//
// active_directory: filter (&(objectCategory=person)(objectClass=user)
// (employeeID=*)) — people, not computers or contacts, and not built-in or
// service accounts, which have no employeeID (a record without a key would
// hold back every leaver); attributes employeeID, sAMAccountName,
// userPrincipalName, userAccountControl, givenName, sn, displayName, mail,
// department, title, company, manager, objectGUID; references {manager:
// employeeID}. mappings/active-directory-source.yaml maps them, the
// account's state from userAccountControl's ACCOUNTDISABLE bit:
// IIF(BitAnd([userAccountControl], 2)="2", "False", "True").
package ldap
