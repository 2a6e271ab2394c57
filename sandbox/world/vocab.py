"""Word lists for the synthetic world.

Typed in here (not drawn from a faker locale) so that a seed gives the same world on every machine
and every library version. Names are common given names and surnames; places are real towns with a
plausible postcode prefix and, for Norway, the municipality number.
"""

NO_FIRST = (
    "Kari", "Ola", "Ingrid", "Lars", "Anne", "Per", "Marit", "Jan", "Hilde", "Bjørn", "Silje",
    "Knut", "Ragnhild", "Erik", "Tone", "Magnus", "Sigrid", "Håkon", "Nora", "Espen", "Liv",
    "Geir", "Astrid", "Trond", "Camilla", "Sindre", "Eli", "Morten", "Ida", "Øyvind", "Hanne",
    "Jonas", "Kristin", "Tor", "Marte", "Henrik", "Solveig", "Arne", "Randi", "Even",
)
NO_MIDDLE = ("Marie", "Johan", "Elisabeth", "André", "Kristine", "Olav")
NO_LAST = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen",
    "Lund", "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg",
    "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen",
    "Mathisen", "Lie", "Rønning", "Nordmann", "Aasen", "Vik", "Brekke",
)
UK_FIRST = (
    "Oliver", "Amelia", "George", "Olivia", "Harry", "Isla", "Jack", "Emily", "Charlie", "Ava",
    "Thomas", "Jessica", "James", "Sophie", "William", "Grace", "Daniel", "Lucy", "Samuel",
    "Chloe", "Joseph", "Ellie", "David", "Hannah", "Michael", "Sarah", "Paul", "Rachel",
    "Andrew", "Claire", "Richard", "Helen", "Stephen", "Laura", "Mark", "Emma", "Peter",
    "Rebecca", "Simon", "Victoria",
)
UK_MIDDLE = ("John", "Elizabeth", "Alexander", "Rose", "Edward", "Louise")
UK_LAST = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King",
    "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis",
)
SE_FIRST = (
    "Anna", "Erik", "Maria", "Lars", "Karin", "Anders", "Sara", "Johan", "Emma", "Per",
    "Kristina", "Mikael", "Lena", "Karl", "Elin", "Björn", "Åsa", "Nils", "Linnéa", "Oskar",
)
SE_LAST = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Öberg",
)

NO_WORDS = (
    "Nordlys", "Fjord", "Vest", "Øst", "Nord", "Sør", "Fjell", "Havbris", "Bølge", "Skog",
    "Granitt", "Kyst", "Midnatt", "Polar", "Viking", "Lofoten", "Trollheim", "Solstrand",
    "Bjørke", "Furu", "Elv", "Storm", "Isbre", "Vidde", "Tind", "Smie", "Bryggen", "Varde",
)
NO_TRADES = (
    "Logistikk", "Bygg", "Eiendom", "Consulting", "Regnskap", "Elektro", "Rør", "Maskin",
    "Data", "Invest", "Transport", "Handel", "Holding", "Design", "Helse", "Marin", "Mat",
    "Energi", "Media", "Arkitekter", "Tannlege", "Frisør", "Utvikling", "Service",
)
UK_WORDS = (
    "Albion", "Thames", "Pennine", "Oak", "Kestrel", "Harbour", "Summit", "Beacon", "Meridian",
    "Granite", "Willow", "Northgate", "Riverside", "Highland", "Cobalt", "Falcon", "Evergreen",
    "Bramley", "Ashford", "Lighthouse", "Redwood", "Sterling", "Marlow", "Trident", "Avon",
)
UK_TRADES = (
    "Logistics", "Builders", "Properties", "Consulting", "Accountancy", "Electrical",
    "Plumbing", "Engineering", "Software", "Investments", "Transport", "Trading", "Holdings",
    "Design", "Healthcare", "Marine", "Foods", "Energy", "Media", "Architects", "Dental",
    "Solutions", "Services", "Analytics",
)
SE_WORDS = (
    "Norrsken", "Skärgård", "Fjäll", "Älv", "Björk", "Gran", "Ek", "Sjö", "Storm", "Vind",
    "Solsidan", "Kust", "Mälar", "Vasa", "Göta", "Dal", "Berg", "Ljung",
)
SE_TRADES = (
    "Logistik", "Bygg", "Fastigheter", "Konsult", "Redovisning", "El", "VVS", "Maskin",
    "Data", "Invest", "Transport", "Handel", "Holding", "Design", "Vård", "Marin", "Livs",
    "Energi", "Media", "Arkitekter",
)

# (town, postcode prefix, county/region, municipality number)
NO_PLACES = (
    ("OSLO", "0", "OSLO", "0301"), ("BERGEN", "50", "BERGEN", "4601"),
    ("TRONDHEIM", "70", "TRONDHEIM", "5001"), ("STAVANGER", "40", "STAVANGER", "1103"),
    ("TROMSØ", "90", "TROMSØ", "5501"), ("DRAMMEN", "30", "DRAMMEN", "3005"),
    ("KRISTIANSAND", "46", "KRISTIANSAND", "4204"), ("ÅLESUND", "60", "ÅLESUND", "1507"),
    ("BODØ", "80", "BODØ", "1804"), ("LILLEHAMMER", "26", "LILLEHAMMER", "3405"),
    ("FREDRIKSTAD", "16", "FREDRIKSTAD", "3004"), ("SANDNES", "43", "SANDNES", "1108"),
)
NO_STREETS = (
    "Storgata", "Kirkegata", "Strandveien", "Industriveien", "Parkveien", "Skolegata",
    "Havnegata", "Fjordveien", "Sjøgata", "Bryggen", "Markveien", "Torggata",
)
UK_PLACES = (
    ("LONDON", "EC1A", "GREATER LONDON"), ("LONDON", "SW1A", "GREATER LONDON"),
    ("LONDON", "E14", "GREATER LONDON"), ("MANCHESTER", "M1", "GREATER MANCHESTER"),
    ("BIRMINGHAM", "B2", "WEST MIDLANDS"), ("LEEDS", "LS1", "WEST YORKSHIRE"),
    ("BRISTOL", "BS1", "AVON"), ("GLASGOW", "G2", ""), ("EDINBURGH", "EH1", ""),
    ("CARDIFF", "CF10", "SOUTH GLAMORGAN"), ("TADLEY", "RG26", "HAMPSHIRE"),
    ("YORK", "YO1", "NORTH YORKSHIRE"), ("NORWICH", "NR1", "NORFOLK"),
    ("BELFAST", "BT1", "COUNTY ANTRIM"), ("CAMBRIDGE", "CB2", "CAMBRIDGESHIRE"),
)
UK_STREETS = (
    "HIGH STREET", "STATION ROAD", "CHURCH LANE", "MILL ROAD", "VICTORIA STREET",
    "KING STREET", "PARK AVENUE", "BRIDGE STREET", "MARKET PLACE", "BERRY COURT FARM",
)
SE_PLACES = (
    ("STOCKHOLM", "11"), ("GÖTEBORG", "41"), ("MALMÖ", "21"), ("UPPSALA", "75"),
    ("VÄSTERÅS", "72"), ("ÖREBRO", "70"), ("LINKÖPING", "58"), ("ÖSTERSUND", "83"),
    ("UMEÅ", "90"), ("LULEÅ", "97"),
)
SE_STREETS = (
    "Storgatan", "Kungsgatan", "Drottninggatan", "Sveavägen", "Hamngatan", "Industrivägen",
    "Skolgatan", "Järnvägsgatan",
)

NO_ROLE_ACCOUNTS = ("post", "firmapost", "kontakt")
UK_ROLE_ACCOUNTS = ("info", "hello", "enquiries")
SE_ROLE_ACCOUNTS = ("info", "kontakt")

# What some free text in Brreg looks like: multi-line, with punctuation and quotes.
NO_PURPOSES = (
    "Utvikling og salg av programvare.\nRådgivning innen IT.",
    'Drift av "{name}", herunder handel med varer og tjenester.',
    "Eiendomsforvaltning, utleie av næringslokaler;\nog deltakelse i andre selskaper.",
    "Transport av gods på vei.",
    "Konsulentvirksomhet, regnskap og revisjon, samt det som naturlig hører sammen med dette.",
)
