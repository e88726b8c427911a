"""Vocabularies the prompt templates draw their slot values from.

Pure data: words and phrases grouped by what they fill. Kept apart from the template
logic in :mod:`distillwatch.simulator.text` so that either can grow without the other.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Alice",
    "Bob",
    "Carmen",
    "Deepak",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kenji",
    "Lena",
    "Mateo",
    "Nadia",
    "Oliver",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tomás",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bruno",
    "Chloé",
    "Dmitri",
)

CITIES = (
    "Lisbon",
    "Kyoto",
    "Mexico City",
    "Edinburgh",
    "Vancouver",
    "Marrakech",
    "Prague",
    "Buenos Aires",
    "Seoul",
    "Cape Town",
    "Istanbul",
    "Hanoi",
    "Copenhagen",
    "Chicago",
    "Barcelona",
    "Melbourne",
    "Bangkok",
    "Vienna",
    "Oaxaca",
    "Reykjavik",
    "Porto",
    "Taipei",
)

TOWNS = (
    "Ashford",
    "Brookfield",
    "Cedar Falls",
    "Dunmore",
    "Elmwood",
    "Fairview",
    "Glenrock",
    "Harlow",
    "Ironbridge",
    "Kingsport",
    "Lakeside",
    "Millbrook",
)

HOW_TO_TASKS = (
    "get rid of fruit flies in my kitchen",
    "set up a Python virtual environment on Windows",
    "negotiate a higher starting salary",
    "remove a stripped screw",
    "make my sourdough starter more active",
    "back up my iPhone without iCloud",
    "stop my cat from scratching the sofa",
    "write a cover letter for a career change",
    "improve my credit score quickly",
    "fix a leaking kitchen tap",
    "merge two branches in git without losing changes",
    "prepare for a behavioural interview",
    "train for a half marathon in 12 weeks",
    "reduce my electricity bill in winter",
    "learn Japanese hiragana fast",
    "clean mould off a bathroom ceiling",
    "convert a Word document to PDF on a Mac",
    "ask my landlord to return my deposit",
    "start investing with a small monthly amount",
    "get better sleep after night shifts",
    "deploy a Flask app to a cheap VPS",
    "format a thesis bibliography in APA style",
    "propagate a pothos plant",
    "speed up a slow Windows laptop",
    "set boundaries with a coworker who keeps interrupting me",
    "keep basil alive indoors",
    "read a CSV file with pandas and skip bad lines",
    "teach my kid long division",
)

CONCEPTS = (
    "compound interest",
    "the Doppler effect",
    "CRISPR gene editing",
    "how vaccines train the immune system",
    "gradient descent",
    "inflation",
    "quantum entanglement",
    "the difference between weather and climate",
    "opportunity cost",
    "how a bill becomes law",
    "photosynthesis",
    "public-key cryptography",
    "black holes",
    "supply and demand",
    "the placebo effect",
    "how transformers work in machine learning",
    "plate tectonics",
    "the Monty Hall problem",
    "index funds",
    "natural selection",
    "how GPS works",
    "the greenhouse effect",
    "recursion",
    "the central limit theorem",
    "how noise-cancelling headphones work",
    "the French Revolution",
    "circadian rhythms",
    "how credit card interest is calculated",
    "the halting problem",
    "osmosis",
)

COMPARISONS = (
    ("a Roth IRA", "a traditional IRA"),
    ("TCP", "UDP"),
    ("baking soda", "baking powder"),
    ("affect", "effect"),
    ("a virus", "a bacterium"),
    ("stocks", "bonds"),
    ("React", "Vue"),
    ("weather", "climate"),
    ("a latte", "a flat white"),
    ("machine learning", "deep learning"),
    ("an LLC", "a sole proprietorship"),
    ("mitosis", "meiosis"),
    ("SQL", "NoSQL databases"),
    ("HIIT", "steady-state cardio"),
    ("a credit score", "a credit report"),
    ("Docker", "a virtual machine"),
)

EMAIL_TONES = ("polite", "firm but friendly", "formal", "apologetic", "short and casual", "warm")
EMAIL_RECIPIENTS = (
    "landlord",
    "manager",
    "professor",
    "client",
    "neighbour",
    "team",
    "HR department",
    "child's teacher",
    "internet provider",
    "contractor",
)
EMAIL_PURPOSES = (
    "asking them to fix the heating",
    "requesting next Friday off",
    "asking for an extension on my assignment",
    "following up on an unpaid invoice",
    "complaining about noise after midnight",
    "announcing that I am leaving the company",
    "asking for a refund for a cancelled order",
    "rescheduling our meeting to Thursday",
    "thanking them for their help with the move",
    "asking why my bill went up",
)

TRIP_WHO = ("a couple", "a family with two kids", "a solo traveller", "three friends", "my parents")
TRIP_BUDGET = ("tight", "moderate", "generous", "backpacker", "mid-range")

DISHES = (
    "a vegetarian lasagna",
    "chicken curry",
    "banana bread",
    "a quick weeknight stir-fry",
    "shakshuka",
    "a lentil soup",
    "pancakes",
    "a chocolate cake without eggs",
    "fish tacos",
    "mushroom risotto",
    "a Greek salad",
    "overnight oats",
)
INGREDIENTS = (
    "spinach",
    "chickpeas",
    "leftover rice",
    "tofu",
    "sweet potatoes",
    "feta",
    "eggs",
    "coconut milk",
    "frozen peas",
    "canned tomatoes",
    "oats",
    "ground beef",
    "zucchini",
)

BRAINSTORM_THINGS = (
    "a 10-year-old's birthday party",
    "a podcast about urban gardening",
    "team-building activities for a remote team",
    "a name for my bakery",
    "blog posts about personal finance",
    "a science fair project",
    "a rainy weekend with kids",
    "side projects to learn Rust",
    "gifts for a coworker who likes hiking",
    "ways to reuse glass jars",
    "a tagline for a bike repair shop",
)

SITUATIONS = (
    "starting a new job next week and feeling anxious",
    "deciding between two job offers with similar pay",
    "behind on my thesis and my advisor is frustrated",
    "moving abroad for the first time",
    "trying to save for a house while paying off student loans",
    "struggling to stay motivated while learning to code",
    "arguing with my roommate about cleaning",
    "burned out but can't take time off",
)

FITNESS_GOALS = (
    "run 10 km without stopping",
    "lose 5 kg",
    "do 10 pull-ups",
    "improve my posture",
    "get back into shape after an injury",
    "build strength for hiking",
    "swim 1 km",
)
FITNESS_CONSTRAINTS = (
    "",
    "",
    " but I have a bad knee",
    " at home with no equipment",
    " only in the mornings",
    " with a pair of dumbbells",
    " in a small gym",
)

REWRITE_QUALITIES = (
    "professional",
    "concise",
    "friendly",
    "persuasive",
    "formal",
    "confident",
    "clear",
)

LANGUAGES = ("Spanish", "German", "French", "Japanese", "Italian", "Portuguese", "Korean")

SENTENCES = (
    "The meeting has been moved to next Tuesday because several people are travelling.",
    "Our team shipped the new onboarding flow and sign-ups went up by twelve percent.",
    "Please remember to submit your expense reports before the end of the month.",
    "The museum is closed on Mondays but stays open late on Thursdays.",
    "I think we should test the idea with a small group before launching it widely.",
    "The delivery was late and the box was damaged, but the product works fine.",
    "Thanks for your patience while we investigate the issue with your account.",
    "The city council approved a plan to add protected bike lanes downtown.",
    "Researchers found that short walks after meals can lower blood sugar spikes.",
    "We are looking for a volunteer to coordinate the neighbourhood clean-up.",
    "The new policy applies to all contracts signed after the first of January.",
    "Heavy rain is expected overnight, so the match may be postponed.",
)

NEWS_SUBJECTS = (
    "The city council",
    "A regional hospital",
    "The central bank",
    "A local startup",
    "The school board",
    "Researchers at a public university",
    "The transport authority",
    "A consortium of farmers",
    "The national weather service",
    "An independent audit",
)
NEWS_VERBS = (
    "announced",
    "approved",
    "delayed",
    "reported",
    "proposed",
    "rejected",
    "published",
)
NEWS_OBJECTS = (
    "a plan to expand night bus services",
    "new rules for short-term rentals",
    "a study on microplastics in drinking water",
    "a budget increase for road repairs",
    "a pilot programme for four-day school weeks",
    "record wheat harvests this season",
    "an investigation into billing errors",
    "a partnership with two electricity providers",
    "guidelines for the use of AI in classrooms",
    "a rise in interest rates of 0.25 points",
)
NEWS_DETAILS = (
    "Officials said the change would take effect next spring.",
    "Critics argued that the costs had been underestimated.",
    "The decision followed months of public consultation.",
    "Residents will be able to comment online until the end of the month.",
    "Several experts called the findings preliminary.",
    "The announcement surprised many observers.",
    "A spokesperson declined to give further details.",
    "Similar measures have been tried in other countries with mixed results.",
)

CODE_SNIPPETS = (
    (
        "python",
        "def average(xs):\n    return sum(xs) / len(xs)\n\nprint(average([]))",
        "ZeroDivisionError: division by zero",
    ),
    (
        "python",
        "items = {'a': 1}\nfor k in items:\n    items[k + '_copy'] = items[k]",
        "RuntimeError: dictionary changed size during iteration",
    ),
    (
        "python",
        "import pandas as pd\ndf = pd.read_csv('sales.csv')\ndf['total'] = df['price'] "
        "* df['qty']\nprint(df.groupby('region').total.sum())",
        "KeyError: 'qty'",
    ),
    (
        "javascript",
        "const data = await fetch(url).json();\nconsole.log(data.items.length);",
        "TypeError: fetch(...).json is not a function",
    ),
    (
        "javascript",
        "function add(a, b) {\n  return a + b;\n}\nconsole.log(add('2', 3));",
        "it prints 23 instead of 5",
    ),
    (
        "typescript",
        "interface User { id: number; name: string }\nconst u: User = JSON.parse(raw);"
        "\nconsole.log(u.name.toUpperCase());",
        "TypeError: Cannot read properties of undefined (reading 'toUpperCase')",
    ),
    (
        "go",
        'func main() {\n    var m map[string]int\n    m["a"] = 1\n}',
        "panic: assignment to entry in nil map",
    ),
    (
        "rust",
        'fn main() {\n    let s = String::from("hi");\n    let t = s;\n    println!("{}", s);\n}',
        "error[E0382]: borrow of moved value: `s`",
    ),
    (
        "java",
        'List<String> names = List.of("a", "b");\nnames.add("c");',
        "java.lang.UnsupportedOperationException",
    ),
    (
        "sql",
        "SELECT customer_id, COUNT(*)\nFROM orders\nWHERE COUNT(*) > 5\nGROUP BY customer_id;",
        "ERROR: aggregate functions are not allowed in WHERE",
    ),
)

CODE_TASKS = (
    "checks whether a string is a palindrome ignoring punctuation",
    "merges two sorted lists into one sorted list",
    "returns the k most frequent words in a text",
    "parses an ISO 8601 duration such as P3DT4H into seconds",
    "finds the longest substring without repeating characters",
    "validates a Sudoku board",
    "computes the edit distance between two strings",
    "detects a cycle in a directed graph",
    "implements an LRU cache with O(1) operations",
    "rotates an n by n matrix by 90 degrees in place",
    "serialises a binary tree to a string and back",
    "groups anagrams from a list of words",
    "evaluates an arithmetic expression with parentheses",
    "schedules meetings into the fewest rooms",
    "computes a running median of a stream",
)

SCIENCE_PHENOMENA = (
    "the sky look blue during the day but red at sunset",
    "ice float on water",
    "a spinning top stay upright",
    "metal feel colder than wood at the same temperature",
    "bread rise when yeast is added",
    "the Moon always show the same face to Earth",
    "salt melt ice on roads",
    "a soap bubble show colours",
    "airplanes stay in the air",
    "a microwave heat food unevenly",
    "the ocean taste salty but rivers do not",
    "hot air balloons rise",
    "your voice sound different on a recording",
)

PRODUCTS = (
    "wireless earbuds",
    "standing desk",
    "espresso machine",
    "running shoes",
    "air purifier",
    "mechanical keyboard",
    "baby stroller",
    "electric toothbrush",
    "camping tent",
    "robot vacuum",
    "yoga mat",
    "cast iron skillet",
    "smartwatch",
    "office chair",
    "portable charger",
    "backpack",
    "water bottle",
    "desk lamp",
    "blender",
    "winter jacket",
)
BRANDS = (
    "Nordvik",
    "Lumora",
    "Kestrel",
    "Aurelia",
    "Voltique",
    "Brightline",
    "Harbor & Pine",
    "Quillo",
    "Zentra",
    "Orbis",
    "Maple Forge",
    "Tidewell",
)
PRODUCT_ADJECTIVES = (
    "lightweight",
    "waterproof",
    "ergonomic",
    "compact",
    "premium",
    "foldable",
    "quiet",
    "rechargeable",
    "stainless steel",
    "noise-cancelling",
    "eco-friendly",
    "heavy-duty",
)
REVIEW_OPENERS = (
    "Bought this for my partner.",
    "Second one I've owned.",
    "Arrived two days early.",
    "I was sceptical at first.",
    "Used it every day for a month.",
    "Gift for my dad.",
    "Ordered after reading lots of reviews.",
    "Replacement for an old one that broke.",
)
REVIEW_OPINIONS_POS = (
    "Works exactly as described and the battery lasts forever.",
    "Really solid build quality, feels like it will last years.",
    "Setup took five minutes and it has been flawless since.",
    "Great value for the price, would buy again.",
)
REVIEW_OPINIONS_NEG = (
    "Stopped working after two weeks and support never answered.",
    "Much smaller than the pictures suggest and the finish is cheap.",
    "The app keeps disconnecting, which makes it useless.",
    "Loud, flimsy, and it smells like burnt plastic.",
)
REVIEW_OPINIONS_MIXED = (
    "Does the job, although the instructions are confusing.",
    "Decent, but the colour is not what I expected.",
    "Fine for the price; don't expect miracles.",
    "Good hardware, mediocre software.",
)

VENDORS = (
    "Acme Office Supplies Ltd",
    "Blue River Logistics",
    "Kappa Consulting GmbH",
    "Northwind Traders",
    "Sunrise Catering",
    "Delta Print & Copy",
    "Orion Cloud Services",
    "Greenfield Facilities",
    "Atlas Legal LLP",
    "Pixel Forge Studio",
)
TICKET_ISSUES = (
    "I was charged twice for my subscription this month",
    "the app crashes every time I open the settings page",
    "I can't log in after resetting my password",
    "how do I add a second user to my plan",
    "my order says delivered but nothing arrived",
    "the export to CSV is missing columns",
    "can I get an invoice with my company's VAT number",
    "I want to cancel and get a refund",
    "two-factor codes never arrive by SMS",
    "your API returns 500 errors since this morning",
)
PRODUCT_CATEGORIES = (
    "Electronics",
    "Home & Kitchen",
    "Sports & Outdoors",
    "Office Products",
    "Baby",
    "Health & Personal Care",
    "Clothing",
    "Tools & Home Improvement",
)

MC_ITEMS = (
    (
        "high school chemistry",
        "Which of the following is a noble gas?",
        "Argon",
        ("Nitrogen", "Chlorine", "Sodium"),
    ),
    ("world history", "In which year did the Berlin Wall fall?", "1989", ("1985", "1991", "1979")),
    (
        "college biology",
        "Which organelle is the main site of ATP production?",
        "The mitochondrion",
        ("The ribosome", "The Golgi apparatus", "The lysosome"),
    ),
    (
        "computer science",
        "What is the worst-case time complexity of quicksort?",
        "O(n^2)",
        ("O(n log n)", "O(n)", "O(log n)"),
    ),
    (
        "high school physics",
        "What is the SI unit of electric charge?",
        "The coulomb",
        ("The volt", "The ampere", "The ohm"),
    ),
    (
        "economics",
        "A price ceiling set below the equilibrium price causes",
        "a shortage",
        ("a surplus", "no change in quantity", "a rise in supply"),
    ),
    ("astronomy", "Which planet has the shortest year?", "Mercury", ("Venus", "Mars", "Earth")),
    (
        "philosophy",
        "Who wrote the 'Critique of Pure Reason'?",
        "Immanuel Kant",
        ("David Hume", "John Locke", "G. W. F. Hegel"),
    ),
    (
        "geography",
        "Which river flows through Budapest?",
        "The Danube",
        ("The Rhine", "The Vistula", "The Elbe"),
    ),
    (
        "statistics",
        "Which measure is most affected by outliers?",
        "The mean",
        ("The median", "The mode", "The interquartile range"),
    ),
    ("anatomy", "How many chambers does the human heart have?", "Four", ("Two", "Three", "Five")),
    (
        "law",
        "Which principle bars trying a person twice for the same offence?",
        "Double jeopardy",
        ("Habeas corpus", "Stare decisis", "Res judicata"),
    ),
    (
        "machine learning",
        "Which technique reduces overfitting by randomly zeroing activations?",
        "Dropout",
        ("Batch normalisation", "Momentum", "Early stopping"),
    ),
    (
        "medicine",
        "Deficiency of which vitamin causes scurvy?",
        "Vitamin C",
        ("Vitamin D", "Vitamin B12", "Vitamin K"),
    ),
)

AGENT_TOOLS = (
    "web_search",
    "read_url",
    "python_exec",
    "send_email",
    "calendar_create_event",
    "sql_query",
    "file_read",
    "file_write",
    "http_request",
    "shell",
    "vector_search",
    "create_ticket",
    "slack_post",
    "spreadsheet_update",
)
AGENT_GOALS = (
    "book the cheapest refundable flight from Berlin to Toronto next month",
    "compile a competitor pricing table for five project-management tools",
    "find and fix the failing nightly data-export job",
    "organise a three-day offsite for twelve people under a fixed budget",
    "migrate a customer database from MySQL to PostgreSQL with no downtime",
    "triage two hundred open support tickets and draft replies to the urgent ones",
    "produce a weekly sales report from the CRM and email it to the leadership team",
    "research grant opportunities for a small climate-tech startup and draft applications",
    "reconcile last quarter's invoices against bank transactions",
    "set up monitoring and alerting for a new web service",
)

SENSITIVE_TOPICS = (
    "a disputed border region",
    "a contested national election",
    "a historical massacre that some governments deny",
    "vaccine safety debates",
    "a separatist movement",
    "state surveillance of journalists",
    "a recent military coup",
    "censorship of a protest movement",
    "religious minority rights",
    "the origins of a pandemic",
)
POLICY_NAMES = (
    "our content guidelines",
    "the platform's neutrality policy",
    "the editorial standards",
    "local publication rules",
    "the safety policy",
)

RUBRIC_CRITERIA = (
    "correctness of the final answer",
    "completeness of the reasoning",
    "clarity of explanation",
    "use of relevant evidence",
    "handling of edge cases",
    "logical consistency",
    "conciseness",
    "appropriate use of terminology",
    "structure and organisation",
)

APP_DOMAINS = (
    "support",
    "writing",
    "tutoring",
    "travel",
    "commerce",
    "recipes",
    "legal",
    "fitness",
)
APP_NAMES = (
    "Nimbus",
    "Sage",
    "Pilot",
    "Juniper",
    "Beacon",
    "Atlas",
    "Echo",
    "Maple",
    "Scout",
    "Nova",
)

COMPANY_NAMES = (
    "Hollis & Grant",
    "Veridian Analytics",
    "Coastal Mutual Insurance",
    "Fenwick Robotics",
    "Larkspur Health",
    "Meridian Freight",
    "Oakridge Capital",
    "Quantive Labs",
    "Redwood Retail Group",
    "Stellar Pharma",
    "Tessellate Design",
    "Umbra Energy",
)
WORK_TOPICS = (
    "the Q3 roadmap",
    "our vendor contract renewal",
    "the new expense policy",
    "the customer churn analysis",
    "the office move in March",
    "the security audit findings",
    "hiring for the data team",
    "the pricing change for enterprise plans",
    "the incident on Tuesday",
    "the product launch checklist",
)
SQL_ASKS = (
    "the top 10 customers by revenue last quarter",
    "monthly active users per country for 2026",
    "orders that shipped late, with the delay in days",
    "the average ticket resolution time per support agent",
    "products that have never been ordered",
)
SQL_TABLES = (
    "customers(id, name, country), orders(id, customer_id, total, created_at)",
    "users(id, country, created_at), events(user_id, name, ts)",
    "orders(id, promised_at, shipped_at), order_items(order_id, product_id, qty)",
    "tickets(id, agent_id, opened_at, closed_at), agents(id, name, team)",
)

REPO_PATHS = (
    "src/api/handlers.py",
    "src/billing/invoice.ts",
    "internal/queue/worker.go",
    "app/models/user.rb",
    "lib/parser/lexer.rs",
    "services/auth/session.py",
    "web/components/Checkout.tsx",
    "pkg/storage/s3.go",
    "src/utils/dates.ts",
    "backend/jobs/export.py",
    "core/src/main/java/com/acme/OrderService.java",
)
MODULE_NAMES = (
    "handlers",
    "invoice",
    "worker",
    "session",
    "lexer",
    "export",
    "dates",
    "checkout",
    "storage",
    "billing",
    "parser",
    "models",
)
TEST_NAMES = (
    "test_invoice_totals_round_correctly",
    "test_session_expires_after_idle",
    "TestWorkerRetriesOnTimeout",
    "checkout renders discount line",
    "test_export_handles_unicode_names",
    "test_parse_nested_brackets",
)
FAILURES = (
    "AssertionError: expected 104.99 but got 104.98",
    "TimeoutError: worker did not ack within 30s",
    "TypeError: Cannot read properties of null (reading 'amount')",
    "KeyError: 'customer_id'",
    "thread 'main' panicked at 'index out of bounds'",
    "NullPointerException at OrderService.java:88",
)
REFACTOR_PATTERNS = (
    "dependency injection",
    "async/await",
    "a repository pattern",
    "dataclasses",
    "a state machine",
    "structured logging",
    "the builder pattern",
)
