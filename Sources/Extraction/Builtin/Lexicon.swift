import MemifyCore
import GraphStore
import SessionCache
import Foundation

/// Word lists the builtin extractor types names with. Lowercase; phrases space-separated.
/// Small on purpose: cues (suffixes, prepositions, titles, verbs) carry most of the typing, the
/// lists settle the well-known names that have no cue.
enum Lexicon {
    static func set(_ text: String) -> Set<String> {
        Set(text.split(whereSeparator: { $0 == "," || $0 == "\n" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// Capitalised at the start of a sentence (or anywhere), these are ordinary words, not names.
    static let commonWords = set("""
        a, an, the, this, that, these, those, it, its, he, she, they, we, i, you, me, him, her, them, us, my, your, our, their, his,
        mine, yours, ours, theirs, what, where, when, who, whom, whose, why, how, which, is, are, was, were, be, been, being, am,
        do, does, did, done, have, has, had, can, could, will, would, shall, should, may, might, must, not, no, yes, yeah, yep,
        sure, ok, okay, hi, hello, hey, thanks, thank, please, sorry, well, so, also, and, or, but, if, then, than, because,
        since, as, at, by, for, from, in, into, of, on, onto, to, with, without, about, after, before, during, until, while,
        however, although, though, yet, still, just, only, even, here, there, now, today, tomorrow, yesterday, great, good,
        nice, cool, absolutely, certainly, definitely, indeed, of course, unfortunately, fortunately, actually, basically,
        generally, typically, usually, often, sometimes, always, never, first, second, third, next, finally, lastly, then,
        based, according, given, let, lets, let's, here's, there's, that's, it's, i'm, i've, i'd, i'll, you're, you've, we're,
        they're, she's, he's, don't, doesn't, didn't, can't, won't, isn't, aren't, wasn't, both, each, every, all, any, some,
        many, much, most, more, few, several, other, another, such, one, two, three, note, tip, tips, step, steps, option,
        answer, question, session, id, remember, consider, try, make, use, check, keep, start, avoid, add, get, go, see, look,
        ask, tell, find, take, give, set, yes, no, maybe, perhaps, also, overall, otherwise, instead, meanwhile, besides,
        additionally, furthermore, moreover, therefore, thus, hence, alright, wow, oh, ah, congrats, congratulations, welcome,
        dear, mr, mrs, ms, dr, prof, sir, madam, happy, hope, great, awesome, perfect, exactly, correct, right, true, false,
        morning, evening, afternoon, night, week, weekend, month, year, day, days, years, hours, minutes, anyway, besides,
        english, could you, would you, can you, is there, are there, what's, where's, who's, how's, when's, mom, dad, mum,
        grandma, grandpa, monday, tuesday, wednesday, thursday, friday, saturday, sunday, christmas eve, new, old, best, top,
        free, total, important, quick, simple, recently, currently, later, earlier, soon, again, once, twice, everyone,
        everything, someone, something, nothing, nobody, anyone, anything
        """)

    static let months: [String: Int] = [
        "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5, "june": 6,
        "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10,
        "november": 11, "nov": 11, "december": 12, "dec": 12,
    ]

    static let weekdays = set("monday, tuesday, wednesday, thursday, friday, saturday, sunday")

    static let numberWords: [String: Int] = [
        "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
        "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
        "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100, "a dozen": 12, "dozen": 12,
    ]

    /// A number followed by one of these is never a quantity span of its own with it.
    static let notCounted = set("""
        of, and, or, to, in, on, at, by, for, from, with, the, a, an, is, are, was, were, be, am, pm, a.m., p.m., o'clock,
        times, time, th, st, nd, rd, than, as, per, if, so, but, that, this, it, he, she, they, we, i, you, more, less, or so,
        more than, over, about, out, which, who, when, where, because, after, before, until, into, will, would, can, could,
        has, have, had, do, does, did, not, also, still, just
        """)

    /// Units and counted nouns that make a bare year-like number a quantity ("2000 calories").
    static let units = set("""
        kg, g, mg, lb, lbs, pounds, ounces, oz, km, m, cm, mm, miles, mile, feet, foot, ft, inches, meters, metres, meter,
        metre, kilometers, kilometres, liters, litres, liter, litre, ml, gallons, calories, kcal, people, dollars, euros,
        usd, eur, gbp, yen, yuan, rupees, francs, steps, words, pages, users, employees, students, units, items, shares,
        points, votes, copies, rows, requests, gb, mb, tb, kb, ghz, mhz, hz, kw, kwh, mw, watts, volts, degrees, percent,
        years, months, weeks, days, hours, minutes, seconds, square meters, sq ft, acres, hectares, tons, tonnes
        """)

    static let currencySymbols: Set<Unicode.Scalar> = ["$", "€", "£", "¥", "₹", "₩", "₽", "₺", "₦"]

    static let titles = set("mr, mrs, ms, miss, dr, prof, professor, sir, dame, lord, lady, madam, mx, aunt, uncle, captain, rev")

    /// Words right before a name that make it a person.
    static let personContext = set("""
        named, called, met, meet, meeting, friend, sister, brother, mother, father, wife, husband, son, daughter, boss,
        colleague, coworker, co-worker, manager, cousin, partner, girlfriend, boyfriend, fiancé, fiance, fiancée, nephew, niece,
        grandmother, grandfather, grandson, granddaughter, mom, dad, mum, aunt, uncle, neighbor, neighbour, teacher, doctor,
        coach, tutor, roommate, landlord, client, student, mentor, assistant, with, married, marry, ceo, founder, author, by,
        hi, hello, dear, thanks, director, chef, nurse, lawyer, physician, dentist, therapist, surgeon, spouse, baby, child,
        kid, kids, children, grandma, grandpa, stepson, stepdaughter, stepmother, stepfather, sibling, twin
        """)

    /// Words right after a name that make it a person.
    static let personFollowers = set("""
        said, says, told, tells, asked, asks, wants, wanted, thinks, thought, likes, liked, loves, loved, works, worked,
        lives, lived, moved, was born, is born, married, met, studied, studies, graduated, joined, founded, started, went,
        visited, bought, turned, is a, was a, is an, was an, became, has been, needs, needed, prefers, plays, played,
        runs, ran, teaches, taught, wrote, writes, got, gets, will, would, can, could, should, 's
        """)

    static let locationContext = set("""
        in, to, from, near, visited, visit, visiting, around, across, through, toward, towards, outside, inside, via,
        moved to, lives in, born in, trip to, flight to, flew to, travel to, travelled to, traveled to, based in, located in,
        headquartered in, capital of, north of, south of, east of, west of
        """)

    static let organizationSuffixes = set("""
        inc, inc., corp, corp., corporation, ltd, ltd., llc, gmbh, ag, plc, co, co., company, bank, university, college,
        institute, school, academy, hospital, clinic, foundation, association, organization, organisation, agency, ministry,
        department, council, airlines, airways, air, technologies, technology, tech, labs, lab, systems, group, partners, motors,
        studios, studio, records, press, fc, united, society, committee, commission, authority, federation, union, bureau,
        office, services, solutions, software, consulting, industries, holdings, enterprises, network, networks, media, health,
        pharmaceuticals, pharma, insurance, bancorp, capital, ventures, institution, center, centre, library, church,
        party, club, team, associates, restaurant, cafe, café, hotel, bakery, store, shop, supermarket, gym,
        theatre, theater, orchestra, choir, police, army, navy, fc, airlines, railway, railways
        """)

    static let organizationPrefixes = set("university, bank, ministry, department, institute, college, school, church, bureau, office, federal")

    static let locationSuffixes = set("""
        street, st, st., avenue, ave, ave., road, rd, rd., boulevard, blvd, lane, drive, way, place, square, park, river, lake,
        mountain, mountains, mount, hills, hill, island, islands, bay, beach, city, county, province, state, valley, canyon,
        desert, sea, ocean, coast, district, village, town, heights, peninsula, falls, forest, bridge, harbor, harbour, airport,
        station, region, republic, kingdom, emirates, strait, gulf, delta, plateau, alps, quarter, tower, gate, trail,
        promenade, fountain, palace, cathedral, castle, temple, shrine, stadium, arena, garden, gardens, area, cliffs, plaza,
        pier, wharf, zoo, memorial, monument, basilica, abbey, mosque, synagogue, museum, gallery, house, hall, opera,
        national park, old town, highway, motorway, canal, island, terminal, port, metropolis, prefecture, oblast, land
        """)

    /// Events, prizes, laws and the like, typed `other`.
    static let otherSuffixes = set("""
        day, marathon, open, championships, championship, cup, prize, award, awards, war, festival, olympics, games,
        conference, summit, treaty, act, syndrome, disease, fever, tour, expo, week, convention, league, trophy, derby,
        grand prix, biennale, fair, carnival
        """)
    static let otherPrefixes = set("battle, treaty, siege, festival, operation, project")
    static let clubPrefixes = set("fc, ac, afc, sc, real, atlético, atletico, borussia, sporting, olympique, inter, club, air, restaurant, café, cafe, hotel, bank, banco, deutsche, royal")

    static let locationPrefixes = set("mount, mt, mt., lake, port, san, santa, são, sao, saint, st, st., fort, cape, isle, gulf, bay, sea, new, north, south, east, west, upper, lower, los, las, el, la")

    static let connectors = set("of, de, del, della, da, di, do, dos, das, van, von, der, den, la, le, du, des, bin, al, el, y, &")

    static let locations = set("""
        afghanistan, albania, algeria, argentina, armenia, australia, austria, azerbaijan, bangladesh, belarus, belgium, bolivia,
        bosnia, brazil, bulgaria, cambodia, cameroon, canada, chile, china, colombia, croatia, cuba, cyprus, czechia,
        czech republic, denmark, ecuador, egypt, england, estonia, ethiopia, finland, france, georgia, germany, ghana, greece,
        guatemala, haiti, honduras, hungary, iceland, india, indonesia, iran, iraq, ireland, israel, italy, jamaica, japan,
        jordan, kazakhstan, kenya, korea, south korea, north korea, kosovo, kuwait, laos, latvia, lebanon, libya, lithuania,
        luxembourg, madagascar, malaysia, mali, malta, mexico, moldova, mongolia, montenegro, morocco, mozambique, myanmar,
        nepal, netherlands, the netherlands, new zealand, nicaragua, niger, nigeria, norway, oman, pakistan, panama, paraguay,
        peru, philippines, poland, portugal, qatar, romania, russia, rwanda, saudi arabia, scotland, senegal, serbia,
        singapore, slovakia, slovenia, somalia, south africa, spain, sri lanka, sudan, sweden, switzerland, syria, taiwan,
        tanzania, thailand, tunisia, turkey, türkiye, uganda, ukraine, united kingdom, uk, u.k., united states, usa, us, u.s.,
        united arab emirates, uae, uruguay, uzbekistan, venezuela, vietnam, viet nam, wales, yemen, zambia, zimbabwe,
        europe, asia, africa, north america, south america, latin america, antarctica, oceania, middle east, scandinavia,
        balkans, caribbean, siberia, patagonia, bavaria, catalonia, andalusia, tuscany, provence, normandy, brittany,
        california, texas, florida, new york, washington, oregon, nevada, arizona, colorado, utah, ohio, michigan, illinois,
        massachusetts, virginia, georgia, carolina, north carolina, south carolina, pennsylvania, new jersey, alaska, hawaii,
        ontario, quebec, british columbia, alberta, queensland, victoria, new south wales, tasmania, kerala, punjab, bengal,
        london, paris, berlin, madrid, rome, milan, naples, venice, florence, turin, lisbon, porto, barcelona, valencia,
        seville, bilbao, amsterdam, rotterdam, the hague, brussels, antwerp, vienna, zurich, zürich, geneva, basel, bern,
        munich, münchen, hamburg, frankfurt, cologne, köln, stuttgart, düsseldorf, dresden, leipzig, prague, warsaw, kraków,
        krakow, budapest, bucharest, sofia, athens, istanbul, ankara, moscow, saint petersburg, st. petersburg, kyiv, kiev,
        minsk, riga, tallinn, vilnius, helsinki, stockholm, oslo, copenhagen, bergen, gothenburg, reykjavik, dublin, cork,
        edinburgh, glasgow, manchester, liverpool, birmingham, leeds, bristol, oxford, cambridge, brighton, cardiff, belfast,
        lyon, marseille, nice, toulouse, bordeaux, lille, nantes, strasbourg, new york city, nyc, los angeles, san francisco,
        san diego, san jose, seattle, portland, chicago, boston, miami, atlanta, dallas, houston, austin, denver, phoenix,
        las vegas, detroit, philadelphia, baltimore, nashville, new orleans, minneapolis, pittsburgh, brooklyn, manhattan,
        toronto, montreal, montréal, vancouver, ottawa, calgary, mexico city, guadalajara, havana, bogotá, bogota, lima,
        santiago, buenos aires, são paulo, sao paulo, rio de janeiro, rio, caracas, quito, montevideo, tokyo, osaka, kyoto,
        yokohama, seoul, busan, beijing, shanghai, shenzhen, guangzhou, hong kong, chengdu, wuhan, taipei, hanoi,
        ho chi minh city, saigon, bangkok, manila, jakarta, bali, kuala lumpur, mumbai, delhi, new delhi, bangalore,
        bengaluru, chennai, kolkata, hyderabad, pune, karachi, lahore, dhaka, kathmandu, colombo, dubai, abu dhabi, doha,
        riyadh, tehran, baghdad, beirut, jerusalem, tel aviv, cairo, alexandria, casablanca, marrakech, tunis, lagos, abuja,
        accra, nairobi, addis ababa, kampala, kigali, dar es salaam, johannesburg, cape town, durban, sydney, melbourne,
        brisbane, perth, adelaide, auckland, wellington, christchurch, honolulu, oaxaca, cancún, cancun, lapland, crete,
        sicily, sardinia, corsica, mallorca, majorca, ibiza, iceland, greenland, kyoto, hokkaido, okinawa, yosemite,
        patagonia, everest, the alps, alps, himalayas, sahara, amazon river, danube, rhine, thames, seine, nile, mississippi
        """)

    static let organizations = set("""
        google, alphabet, microsoft, apple, amazon, meta, facebook, netflix, tesla, spacex, openai, anthropic, nvidia, intel,
        amd, ibm, oracle, sap, siemens, bosch, bmw, mercedes-benz, mercedes, volkswagen, audi, porsche, toyota, honda, nissan,
        hyundai, samsung, lg, sony, panasonic, huawei, xiaomi, alibaba, tencent, baidu, bytedance, tiktok, uber, lyft, airbnb,
        spotify, twitter, x corp, linkedin, salesforce, adobe, shopify, stripe, paypal, visa, mastercard, goldman sachs,
        jpmorgan, j.p. morgan, morgan stanley, deloitte, pwc, kpmg, ey, accenture, mckinsey, ikea, zara, h&m, nike, adidas,
        puma, unilever, nestlé, nestle, coca-cola, pepsico, mcdonald's, starbucks, walmart, target, costco, lidl, aldi,
        carrefour, tesco, deutsche bahn, deutsche bank, lufthansa, air france, klm, ryanair, easyjet, emirates, qatar airways,
        delta, united airlines, boeing, airbus, nasa, esa, who, world health organization, un, united nations, unesco, unicef,
        nato, eu, european union, imf, world bank, red cross, greenpeace, fifa, uefa, nba, nfl, mit, stanford, harvard, yale,
        princeton, caltech, oxford university, cambridge university, eth zurich, epfl, sorbonne, bbc, cnn, reuters,
        new york times, the guardian, nhs, fbi, cia, irs, mozilla, github, gitlab, atlassian, slack, zoom, dropbox, canva,
        figma, notion, twilio, cloudflare, datadog, snowflake, databricks, red hat, canonical, vmware, cisco, dell, hp, lenovo,
        asus, acer, philips, nokia, ericsson, vodafone, t-mobile, verizon, at&t, comcast, disney, pixar, warner bros,
        universal, paramount, hbo, ebay, etsy, booking.com, expedia, tripadvisor, duolingo, coursera, udemy, khan academy,
        wikipedia, kaiser permanente, mayo clinic, pfizer, moderna, biontech, novartis, roche, bayer, basf, shell, bp, exxon,
        exxonmobil, chevron, total, totalenergies, equinor, maersk, dhl, fedex, ups, usps, renault, peugeot, fiat, ferrari,
        volvo, ericsson, spotify, revolut, n26, monzo, wise, klarna, rakuten, infosys, tata, wipro, reliance, flipkart, grab,
        gojek, shopee, mercadolibre, nubank, ubs, credit suisse, hsbc, barclays, santander, bbva, ing, rabobank, abn amro,
        bnp paribas, société générale, allianz, axa, zurich insurance
        """)

    static let products = set("""
        iphone, ipad, ipod, macbook, macbook pro, macbook air, imac, apple watch, airpods, android, windows, macos, ios, linux,
        ubuntu, debian, fedora, chrome, firefox, safari, edge, excel, word, powerpoint, outlook, teams, office, photoshop,
        illustrator, lightroom, premiere, kindle, alexa, echo, siri, chatgpt, gpt-4, gpt-4o, claude, gemini, copilot,
        playstation, xbox, nintendo switch, switch, galaxy, pixel, surface, thinkpad, tesla model 3, model 3, model y,
        model s, prius, civic, corolla, golf, mustang, python, java, javascript, typescript, swift, kotlin, rust, go, golang,
        ruby, php, c++, c#, scala, haskell, elixir, postgresql, postgres, mysql, sqlite, mongodb, redis, kafka, elasticsearch,
        docker, kubernetes, terraform, ansible, jenkins, react, vue, angular, django, flask, rails, spring, node.js, nodejs,
        pytorch, tensorflow, pandas, numpy, jupyter, vscode, vs code, visual studio, xcode, intellij, git, jira, confluence,
        trello, asana, salesforce crm, quickbooks, netsuite, tableau, power bi, spss, matlab, autocad, revit, blender, unity,
        unreal engine, wordpress, whatsapp, telegram, signal, instagram, youtube, gmail, google maps, google docs,
        google sheets, zoom, slack, spotify premium, netflix premium, fitbit, garmin, peloton, roomba, thermomix, instant pot,
        vitamix, nespresso, dyson, lego, monopoly, minecraft, fortnite, zelda, pokémon, pokemon, ozempic, aspirin, ibuprofen,
        tylenol, advil, paracetamol, metformin, lipitor, prozac, airtable, obsidian, evernote, onedrive, google drive, icloud,
        dropbox, excel, mailchimp, hubspot, zendesk, freshdesk, grafana, prometheus, nginx, apache, tomcat, openshift, aws,
        azure, gcp, s3, ec2, lambda, bigquery, redshift, snowflake, dbt, airflow, spark, hadoop, vim, emacs, neovim
        """)

    /// Languages, events, diseases and the like: typed `other`.
    static let others = set("""
        spanish, english, french, german, italian, portuguese, dutch, swedish, norwegian, danish, finnish, polish, czech,
        russian, ukrainian, greek, turkish, arabic, hebrew, persian, farsi, hindi, urdu, bengali, punjabi, tamil, telugu,
        chinese, mandarin, cantonese, japanese, korean, vietnamese, thai, indonesian, malay, tagalog, swahili, yoruba, igbo,
        hausa, amharic, zulu, afrikaans, latin, esperanto, catalan, basque, galician, irish, welsh, icelandic, hungarian,
        romanian, bulgarian, serbian, croatian, slovak, slovenian, lithuanian, latvian, estonian, world cup, olympics,
        olympic games, super bowl, wimbledon, tour de france, champions league, oktoberfest, ramadan, eid, diwali, hanukkah,
        christmas, easter, thanksgiving, new year's eve, black friday, coachella, glastonbury, comic-con, covid-19, covid,
        diabetes, asthma, cancer, alzheimer's, parkinson's, influenza, flu, migraine, hypertension, malaria, measles,
        tuberculosis, hiv, aids, arthritis, eczema, celiac disease, crohn's disease, adhd, autism, brexit, world war ii,
        world war i, cold war, renaissance, harry potter, the lord of the rings, star wars, the godfather, hamlet,
        don quixote, war and peace, pride and prejudice, the great gatsby, 1984, gdpr, hipaa, ielts, toefl, gre, gmat, sat,
        mba, phd
        """)

    /// Named events: holidays, festivals, tournaments, wars, disasters.
    static let events = set("""
        world cup, olympics, olympic games, winter olympics, paralympics, super bowl, wimbledon, tour de france,
        champions league, us open, french open, australian open, world series, stanley cup, grand prix, oktoberfest,
        ramadan, eid, eid al-fitr, eid al-adha, diwali, holi, hanukkah, passover, yom kippur, rosh hashanah, christmas,
        easter, thanksgiving, halloween, new year's eve, new year's day, lunar new year, chinese new year, black friday,
        cyber monday, valentine's day, mother's day, father's day, independence day, labor day, memorial day, boxing day,
        carnival, mardi gras, coachella, glastonbury, burning man, comic-con, ces, wwdc, sxsw, davos, brexit, world war ii,
        world war i, ww1, ww2, wwi, wwii, cold war, great depression, french revolution, industrial revolution,
        american revolution, civil war, vietnam war, korean war, gulf war, holocaust, renaissance, reformation, apollo 11,
        moon landing, covid-19 pandemic, the pandemic, 2008 financial crisis, great recession, live aid, woodstock,
        eurovision, eurovision song contest, the oscars, oscars, academy awards, golden globes, grammys, emmys, met gala
        """)

    /// Words that end or open the names of events.
    static let eventWords = set("""
        festival, olympics, games, cup, championship, championships, open, war, revolution, marathon, conference, summit,
        expo, fair, awards, election, elections, strike, crisis, disaster, pandemic, epidemic, hurricane, storm, cyclone,
        typhoon, earthquake, tsunami, battle, siege, day, eve, tour, concert, famine, outage, breach, scandal, crash,
        attacks, attack, massacre, uprising, protest, protests, referendum, summit, congress, council, week, puja, jayanti,
        grand prix, derby, league, series, race, tournament, show, gala, parade, carnival, fiesta, feast, holiday, mission
        """)

    /// First names (several languages), to tell a person from an unknown place.
    static let firstNames = set("""
        james, john, robert, michael, william, david, richard, joseph, thomas, charles, christopher, daniel, matthew, anthony,
        donald, steven, paul, andrew, joshua, kenneth, kevin, brian, george, timothy, ronald, edward, jason, jeffrey, ryan,
        jacob, gary, nicholas, eric, jonathan, stephen, larry, justin, scott, brandon, benjamin, samuel, gregory, alexander,
        frank, patrick, raymond, jack, dennis, jerry, tyler, aaron, jose, adam, nathan, henry, douglas, zachary, peter, kyle,
        ethan, walter, noah, jeremy, christian, keith, roger, terry, gerald, harold, sean, austin, carl, arthur, lawrence,
        dylan, jesse, jordan, bryan, billy, joe, bruce, gabriel, logan, albert, willie, alan, juan, wayne, elijah, randy, roy,
        vincent, ralph, eugene, russell, bobby, mason, philip, louis, liam, oliver, lucas, leo, max, felix, oscar, hugo, theo,
        tom, tim, ben, sam, dan, dave, mike, chris, nick, steve, alex, andy, rob, bob, jim, jimmy, tony, rick,   fred,
        mary, patricia, jennifer, linda, elizabeth, barbara, susan, jessica, sarah, karen, lisa, nancy, betty, margaret,
        sandra, ashley, kimberly, emily, donna, michelle, dorothy, carol, amanda, melissa, deborah, stephanie, rebecca,
        sharon, laura, cynthia, kathleen, amy, angela, shirley, anna, brenda, pamela, emma, nicole, helen, samantha,
        katherine, christine, debra, rachel, carolyn, janet, catherine, maria, heather, diane, ruth, julie, olivia, joyce,
        virginia, victoria, kelly, lauren, christina, joan, evelyn, judith, megan, andrea, cheryl, hannah, jacqueline,
        martha, gloria, teresa, ann, sara, madison, frances, kathryn, janice, jean, abigail, alice, judy, sophia, sophie,
        isabella, mia, charlotte, amelia, harper, ella, chloe, lily, zoe, nora, lucy, clara, eva, ava, julia, jane, kate,
        katie, beth, jenny, jen, liz, meg, sue, ana, lena, lea, leah, nina, mila, elena, ella, ellie, anne, annie, marie,
        hans, klaus, jürgen, jurgen, wolfgang, stefan, andreas, markus, thomas, lukas, jonas, niklas, tobias, florian, sebastian,
        matthias, fritz, karl, heinz, helmut, dieter, uwe, birgit, ursula, petra, sabine, monika, heike, katrin, anja, julia,
        lena, greta, ingrid, astrid, sigrid, lars, sven, nils, erik, björn, bjorn, magnus, olaf, øyvind, oyvind, ole, kari,
        ingrid, freja, emil, mads, søren, soren, henrik, jens, pierre, jean, jacques, michel, philippe, françois, francois,
        nicolas, antoine, julien, mathieu, camille, léa, chloé, manon, élodie, elodie, amélie, amelie, céline, celine,
        sébastien, thierry, yves, giulia, giuseppe, giovanni, marco, luca, matteo, alessandro, francesca, chiara, paola,
        sofia, lorenzo, andrea, federico, carlos, juan, luis, miguel, javier, alejandro, pablo, diego, sergio, jorge,
        fernando, ricardo, eduardo, rafael, andrés, andres, josé, jesús, jesus, manuel, antonio, francisco, pedro, carmen,
        lucía, lucia, isabel, pilar, rosa, elena, marta, paula, laura, valentina, camila, gabriela, daniela, mariana, fernanda,
        ximena, joão, joao, tiago, gonçalo, inês, ines, beatriz, mateus, thiago, rodrigo, gustavo, bruno, felipe, vinícius,
        ivan, dmitri, dmitry, sergei, sergey, alexei, alexey, vladimir, nikolai, olga, natasha, natalia, svetlana, irina,
        tatiana, anastasia, yulia, katya, piotr, krzysztof, tomasz, agnieszka, katarzyna, małgorzata, malgorzata, jan, jakub,
        petr, pavel, jiří, jiri, tereza, zsófia, zsofia, bence, ahmed, mohammed, muhammad, mohamed, ali, omar, hassan,
        hussein, youssef, yusuf, ibrahim, khalid, fatima, aisha, ayesha, mariam, zainab, layla, leila, noor, amir, reza,
        mehmet, mustafa, emre, elif, zeynep, ayşe, ayse,  deniz, yael, noa, avi, moshe, david, rahul, raj, priya, ananya,
        arjun, vikram, amit, ankit, rohan, sanjay, sunita, deepa, lakshmi, aditya, neha, pooja, ravi, kiran, anil, suresh,
        wei,  zhang, wang, liu, chen,                ming,
        xiao, jun, hiroshi, takashi, kenji, yuki, haruto, sakura, yui, aiko, akira, satoshi, naoko, keiko, taro, hana,
        min-jun, minjun, ji-woo, jiwoo, seo-yeon, seoyeon, ji-ho, jiho, hye-jin, nguyen, nguyễn, minh, linh, thanh, 
        tuan, huong,    kwame, kofi, ama, chinedu, chioma, ngozi, oluwaseun, olusegun, tunde, adebayo, emeka,
        amara, zola, thabo, sipho, lerato, wanjiru, kamau, njeri, siobhán, siobhan, niamh, aoife, seán, sean, ciarán, ciaran,
        eoin, oisín, oisin, saoirse, róisín, roisin, declan, fiona, morag, hamish, iain, rhys, dylan, gareth, bronwen, ffion,
        miguel, ramón, ramon, joaquín, joaquin, maría, maria, sofía, renée, renee, zoë, chloé, josé, marta, björk, bjork, kai,
        finn, jonas, malik, jamal, darnell, tyrone, keisha, aaliyah, imani, kendra, tamika, priyanka, arun, vijay, harpreet,
        gurpreet, manpreet, simran, farah, samir, nadia, dina, rania, hana, yasmin, jasmine, jade, ruby, grace, rose, violet,
        ivy, hazel, luna, stella, aurora, nova, iris, diana, alicia, monica, erica, vanessa, tina, wendy, tracy, stacy,
        megan, brittany, courtney, chelsea, whitney, lindsay, kristen, kirsten, heidi, ingrid, marta, mateo, santiago,
        sebastián, nicolás, emilia, martina, agustina, florencia, catalina, isidora, renata, regina, ximena, valeria, lorena
        """)

    /// Names that are also everyday lowercase words: never taken for names in lowercase text.
    static let ambiguousLowercase = set("""
        rose, grace, ivy, hazel, luna, nova, iris, ruby, jade, violet, stella, aurora, will, mark, bill, may, june, april,
        august, max, leo, jack, pat, sue, rob, bob, dan, kai, finn, joy, faith, hope, sky, summer, autumn, jean, dean, gene,
        rick, nick, ray, roy, guy, frank, rich, penny, olive, amber, crystal, dawn, holly, heather, river, brook, chase,
        hunter, carter, cooper, mason, jordan, austin, georgia, virginia, victoria, florence, sydney, dallas, denver, houston,
        chelsea, madison, phoenix, rio, nice, mobile, reading, bath, sale, wells, split, mar, us, word, edge, go, swift, rust,
        spring, unity, signal, echo, switch, golf, civic, teams, office, target, total, delta, shell, visa, wise, grab,
        target, apple, amazon, art, can, jan, lan, iris, jade
        """)

    static let occupations = set("""
        nurse, teacher, engineer, doctor, developer, designer, lawyer, attorney, accountant, manager, chef, cook, pilot,
        architect, pharmacist, scientist, researcher, professor, writer, journalist, reporter, photographer, consultant,
        analyst, electrician, plumber, dentist, surgeon, physician, therapist, psychologist, psychiatrist, firefighter,
        officer, mechanic, driver, cashier, barista, waiter, waitress, bartender, farmer, musician, artist, painter, actor,
        actress, singer, dancer, programmer, administrator, librarian, veterinarian, vet, paramedic, midwife, carpenter,
        translator, interpreter, secretary, receptionist, salesperson, director, ceo, cto, cfo, coo, intern, coach,
        economist, biologist, chemist, physicist, mathematician, historian, editor, producer, tutor, instructor, lecturer,
        clerk, baker, butcher, tailor, soldier, diplomat, banker, broker, agent, specialist, technician, coordinator,
        supervisor, assistant, nanny, caregiver, founder, entrepreneur, student, postdoc, judge, paralegal, recruiter,
        marketer, strategist, scrum master, product owner, data scientist, statistician, geologist, astronomer, pilot,
        flight attendant, police officer, social worker, counselor, counsellor, optometrist, radiologist, pediatrician,
        paediatrician, cardiologist, dermatologist, neurologist, oncologist, anesthesiologist, physiotherapist, chiropractor,
        dietitian, nutritionist, pharmacologist, sommelier, jeweler, florist, gardener, landscaper, janitor, housekeeper,
        security guard, guard, firefighter, lifeguard, trainer, personal trainer, yoga instructor, illustrator, animator,
        copywriter, blogger, influencer, streamer, auditor, actuary, underwriter, realtor, real estate agent, surveyor,
        welder, machinist, electrician, roofer, bricklayer, mason, miner, fisherman, sailor, captain, priest, pastor, rabbi,
        imam, monk, nun, curator, archivist, archaeologist, anthropologist, sociologist, linguist, philosopher, poet,
        novelist, composer, conductor, violinist, pianist, guitarist, drummer, dj, tester, devops engineer, architect,
        president, vice president, minister, senator, mayor, governor, ambassador, neurosurgeon, correspondent, prime minister,
        secretary-general, chancellor, realtor, muralist, sculptor, footballer, athlete, cyclist, swimmer, golfer, novelist,
        screenwriter, filmmaker, cinematographer, barber, hairdresser, stylist, accountant, bookkeeper, cleaner, courier
        """)

    static let occupationModifiers = set("""
        senior, junior, lead, chief, head, staff, principal, associate, assistant, registered, licensed, certified, freelance,
        software, data, machine learning, ml, ai, backend, back-end, frontend, front-end, full-stack, fullstack, web, mobile,
        cloud, devops, security, network, systems, site reliability, civil, mechanical, electrical, chemical, structural,
        biomedical, aerospace, industrial, environmental, marketing, sales, product, project, program, operations, finance,
        financial, hr, human resources, account, accounts, office, general, medical, clinical, research, graduate, pastry,
        sous, head, school, high school, primary school, math, maths, science, english, history, music, art, dental,
        veterinary, family, emergency, er, icu, pediatric, trauma, nurse, police, fire, flight, commercial, airline, tax,
        corporate, criminal, immigration, estate, real estate, interior, graphic, ux, ui, fashion, game, video, sound,
        audio, qa, test, quality, support, customer, technical, it, database, systems, solutions, business, investment,
        research, lab, teaching, special education, kindergarten, elementary, middle school, university, city, bus, truck,
        taxi, delivery, construction, social, media, content, communications, public relations, pr, management
        """)

    /// Verb cues for relations: cue words → (relation, subject types, object types). Object
    /// types decide between `born_in` and `born_on`.
    static let relationCues: [(cue: [String], relation: String, subjects: Set<String>, objects: Set<String>)] = [
        (["works", "at"], "works_at", ["person"], ["organization"]), (["work", "at"], "works_at", ["person"], ["organization"]),
        (["worked", "at"], "works_at", ["person"], ["organization"]), (["working", "at"], "works_at", ["person"], ["organization"]),
        (["works", "for"], "works_at", ["person"], ["organization"]), (["worked", "for"], "works_at", ["person"], ["organization"]),
        (["working", "for"], "works_at", ["person"], ["organization"]), (["work", "for"], "works_at", ["person"], ["organization"]),
        (["employed", "at"], "works_at", ["person"], ["organization"]), (["employed", "by"], "works_at", ["person"], ["organization"]),
        (["job", "at"], "works_at", ["person"], ["organization"]), (["hired", "by"], "works_at", ["person"], ["organization"]),
        (["teaches", "at"], "works_at", ["person"], ["organization"]), (["taught", "at"], "works_at", ["person"], ["organization"]),
        (["teach", "at"], "works_at", ["person"], ["organization"]), (["lectures", "at"], "works_at", ["person"], ["organization"]),
        (["served", "in"], "works_at", ["person"], ["organization"]), (["serves", "in"], "works_at", ["person"], ["organization"]),
        (["served", "as"], "works_as", ["person"], ["occupation"]), (["serves", "as"], "works_as", ["person"], ["occupation"]),
        (["based", "in"], "lives_in", ["person"], ["location"]),
        (["works", "as"], "works_as", ["person"], ["occupation"]), (["worked", "as"], "works_as", ["person"], ["occupation"]),
        (["working", "as"], "works_as", ["person"], ["occupation"]), (["work", "as"], "works_as", ["person"], ["occupation"]),
        (["is"], "works_as", ["person"], ["occupation"]), (["was"], "works_as", ["person"], ["occupation"]),
        (["became"], "works_as", ["person"], ["occupation"]), (["job", "as"], "works_as", ["person"], ["occupation"]),
        (["lives", "in"], "lives_in", ["person"], ["location"]), (["live", "in"], "lives_in", ["person"], ["location"]),
        (["lived", "in"], "lives_in", ["person"], ["location"]), (["living", "in"], "lives_in", ["person"], ["location"]),
        (["resides", "in"], "lives_in", ["person"], ["location"]), (["lives", "near"], "lives_in", ["person"], ["location"]),
        (["moved", "to"], "moved_to", ["person"], ["location"]), (["move", "to"], "moved_to", ["person"], ["location"]),
        (["moving", "to"], "moved_to", ["person"], ["location"]), (["relocated", "to"], "moved_to", ["person"], ["location"]),
        (["moved", "back", "to"], "moved_to", ["person"], ["location"]),
        (["born", "in"], "born_in", ["person"], ["location", "date"]), (["born", "on"], "born_on", ["person"], ["date"]),
        (["born"], "born_in", ["person"], ["location", "date"]),
        (["met"], "met", ["person"], ["person"]), (["meet"], "met", ["person"], ["person"]), (["meeting"], "met", ["person"], ["person"]),
        (["founded"], "founded", ["person"], ["organization"]), (["co-founded"], "founded", ["person"], ["organization"]),
        (["cofounded"], "founded", ["person"], ["organization"]), (["established"], "founded", ["person"], ["organization"]),
        (["studied", "at"], "studied_at", ["person"], ["organization"]), (["studies", "at"], "studied_at", ["person"], ["organization"]),
        (["study", "at"], "studied_at", ["person"], ["organization"]), (["studying", "at"], "studied_at", ["person"], ["organization"]),
        (["graduated", "from"], "studied_at", ["person"], ["organization"]), (["attended"], "studied_at", ["person"], ["organization"]),
        (["enrolled", "at"], "studied_at", ["person"], ["organization"]), (["studied"], "studied_at", ["person"], ["organization"]),
        (["married", "to"], "married_to", ["person"], ["person"]), (["married"], "married_to", ["person"], ["person"]),
        (["marry"], "married_to", ["person"], ["person"]), (["wed"], "married_to", ["person"], ["person"]),
        (["located", "in"], "located_in", ["organization", "location"], ["location"]),
        (["based", "in"], "located_in", ["organization"], ["location"]), (["lies", "in"], "located_in", ["location"], ["location"]),
        (["is", "in"], "located_in", ["organization", "location"], ["location"]),
        (["headquartered", "in"], "headquartered_in", ["organization"], ["location"]),
        (["headquarters", "in"], "headquartered_in", ["organization"], ["location"]),
        (["visited"], "visited", ["person"], ["location"]), (["visiting"], "visited", ["person"], ["location"]),
        (["went", "to"], "visited", ["person"], ["location"]), (["trip", "to"], "visited", ["person"], ["location"]),
        (["traveled", "to"], "visited", ["person"], ["location"]), (["travelled", "to"], "visited", ["person"], ["location"]),
        (["flew", "to"], "visited", ["person"], ["location"]),
        (["joined"], "joined", ["person"], ["organization"]), (["joins"], "joined", ["person"], ["organization"]),
        (["bought"], "bought", ["person"], ["product"]), (["purchased"], "bought", ["person"], ["product"]),
        (["uses"], "uses", ["person", "organization"], ["product"]), (["using"], "uses", ["person", "organization"], ["product"]),
        (["use"], "uses", ["person", "organization"], ["product"]), (["used"], "uses", ["person", "organization"], ["product"]),
    ]

    static let relationCuesByFirstWord = Dictionary(grouping: relationCues, by: { $0.cue[0] })
}
